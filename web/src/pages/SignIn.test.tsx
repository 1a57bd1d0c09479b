import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetSessionForTests } from "../api/client";
import { I18nProvider } from "../i18n";
import { SignIn } from "./SignIn";

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

beforeEach(() => resetSessionForTests());
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("the sign-in page", () => {
  it("asks for a code, then signs in with it", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(answer(202, { challenge_id: "ch-1", expires_in: 300 }))
      .mockResolvedValueOnce(answer(200, { access_token: "a", refresh_token: null, token_type: "Bearer", expires_in: 600 }));
    vi.stubGlobal("fetch", fetch);
    const signedIn = vi.fn();
    render(
      <I18nProvider language="en">
        <SignIn onSignedIn={signedIn} />
      </I18nProvider>,
    );

    fireEvent.change(screen.getByLabelText(/Phone number/), { target: { value: "+79990000001" } });
    fireEvent.click(screen.getByRole("button", { name: "Send the code" }));
    const code = await screen.findByLabelText("Code from the SMS");
    expect(screen.getByText("+79990000001")).toBeTruthy();
    fireEvent.change(code, { target: { value: "123456" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));

    await waitFor(() => expect(signedIn).toHaveBeenCalledOnce());
    expect(JSON.parse(fetch.mock.calls[1]![1].body)).toEqual({ challenge_id: "ch-1", code: "123456" });
  });

  it("shows the API's refusal as a message in the chosen language", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(answer(401, { status: 401, reason: "BAD_CREDENTIALS" })));
    render(
      <I18nProvider language="ru">
        <SignIn onSignedIn={() => undefined} />
      </I18nProvider>,
    );

    fireEvent.click(screen.getByRole("tab", { name: "Пароль" }));
    fireEvent.change(screen.getByLabelText(/Номер телефона/), { target: { value: "+79990000001" } });
    fireEvent.change(screen.getByLabelText("Пароль"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Войти" }));

    expect((await screen.findByRole("alert")).textContent).toBe("Неверный номер телефона или пароль.");
  });
});
