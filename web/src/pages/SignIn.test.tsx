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

describe("the forgotten password", () => {
  it("sends a code by email, then sets the new password with it and signs in", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(answer(202, { challenge_id: "ch-9", expires_in: 300 }))
      .mockResolvedValueOnce(answer(200, { access_token: "a", refresh_token: null, token_type: "Bearer", expires_in: 600 }));
    vi.stubGlobal("fetch", fetch);
    const signedIn = vi.fn();
    render(
      <I18nProvider language="en">
        <SignIn onSignedIn={signedIn} />
      </I18nProvider>,
    );

    fireEvent.click(screen.getByRole("tab", { name: "Password" }));
    fireEvent.click(screen.getByRole("button", { name: "Forgot your password?" }));
    fireEvent.change(screen.getByLabelText(/Phone number/), { target: { value: "+79990000001" } });
    fireEvent.click(screen.getByRole("radio", { name: "Email" }));
    fireEvent.click(screen.getByRole("button", { name: "Send the code" }));

    await screen.findByRole("heading", { name: "Choose a new password" });
    expect(fetch.mock.calls[0]![0]).toBe("/v1/auth/password-reset");
    expect(JSON.parse(fetch.mock.calls[0]![1].body)).toEqual({ phone: "+79990000001", channel: "email" });
    fireEvent.change(screen.getByLabelText("Code from the email"), { target: { value: "654321" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "Fresh-passw0rd-1" } });
    fireEvent.change(screen.getByLabelText("New password again"), { target: { value: "Fresh-passw0rd-2" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the password and sign in" }));

    // Two different passwords: nothing is sent.
    expect((await screen.findByRole("alert")).textContent).toBe("The two passwords are not the same.");
    expect(fetch).toHaveBeenCalledOnce();

    fireEvent.change(screen.getByLabelText("New password again"), { target: { value: "Fresh-passw0rd-1" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the password and sign in" }));
    await waitFor(() => expect(signedIn).toHaveBeenCalledOnce());
    const [url, init] = fetch.mock.calls[1]!;
    expect([url, init.headers["X-SIMfleet-Client"]]).toEqual(["/v1/auth/password-reset/confirm", "browser"]);
    expect(JSON.parse(init.body)).toEqual({ challenge_id: "ch-9", code: "654321", new_password: "Fresh-passw0rd-1" });
  });

  it("shows the password rules the API refused, and stays signed out", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(answer(202, { challenge_id: "ch-9", expires_in: 300 }))
      .mockResolvedValueOnce(answer(422, { status: 422, reason: "PASSWORD_TOO_WEAK" }));
    vi.stubGlobal("fetch", fetch);
    const signedIn = vi.fn();
    render(
      <I18nProvider language="en">
        <SignIn onSignedIn={signedIn} />
      </I18nProvider>,
    );
    fireEvent.click(screen.getByRole("tab", { name: "Password" }));
    fireEvent.click(screen.getByRole("button", { name: "Forgot your password?" }));
    fireEvent.change(screen.getByLabelText(/Phone number/), { target: { value: "+79990000001" } });
    fireEvent.click(screen.getByRole("button", { name: "Send the code" }));
    expect(JSON.parse((await waitFor(() => fetch.mock.calls[0]!))[1].body).channel).toBe("sms");
    fireEvent.change(await screen.findByLabelText("Code from the SMS"), { target: { value: "654321" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "weakweakwe" } });
    fireEvent.change(screen.getByLabelText("New password again"), { target: { value: "weakweakwe" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the password and sign in" }));

    expect((await screen.findByRole("alert")).textContent).toMatch(/^The new password is too weak/);
    expect(signedIn).not.toHaveBeenCalled();
  });
});

describe("the email code", () => {
  it("asks for a code by email and says where it went", async () => {
    const fetch = vi.fn().mockResolvedValueOnce(answer(202, { challenge_id: "ch-2", expires_in: 300 }));
    vi.stubGlobal("fetch", fetch);
    render(
      <I18nProvider language="en">
        <SignIn onSignedIn={() => undefined} />
      </I18nProvider>,
    );
    fireEvent.click(screen.getByRole("tab", { name: "Code by email" }));
    fireEvent.change(screen.getByLabelText(/Phone number/), { target: { value: "+79990000001" } });
    fireEvent.click(screen.getByRole("button", { name: "Send the code" }));
    expect(await screen.findByLabelText("Code from the email")).toBeTruthy();
    expect(JSON.parse(fetch.mock.calls[0]![1].body)).toEqual({ phone: "+79990000001", channel: "email" });
  });
});
