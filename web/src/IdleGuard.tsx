import { useEffect, useRef, useState } from "react";
import { refreshSession, sinceLastContact } from "./api/client";
import { useI18n } from "./i18n";
import { IdleTimer, KEEP_ALIVE_MS, type Clock } from "./idle";

const ACTIVITY = ["keydown", "pointerdown", "touchstart", "wheel"] as const;

/**
 * ID-7 in the page: a minute before the idle limit a dialog says the session is about to end and counts down;
 * "Stay signed in" renews the session, and at the limit onTimeout signs out. Limits and clock are props so tests
 * (and the browser test's fake clock) need not wait.
 */
export function IdleGuard({
  onTimeout,
  onSignOut,
  limitMs,
  warningMs,
  clock,
}: {
  onTimeout: () => void;
  onSignOut: () => void;
  limitMs?: number;
  warningMs?: number;
  clock?: Clock;
}) {
  const { t, formatNumber } = useI18n();
  const [left, setLeft] = useState<number | null>(null);
  const timer = useRef<IdleTimer | null>(null);
  const stayButton = useRef<HTMLButtonElement>(null);
  const timeout = useRef(onTimeout);
  timeout.current = onTimeout;

  useEffect(() => {
    const idle = new IdleTimer({
      limitMs,
      warningMs,
      clock,
      onWarning: (ms) => setLeft(ms),
      onTimeout: () => {
        setLeft(null);
        timeout.current();
      },
    });
    timer.current = idle;
    let renewing = false;
    const onActivity = () => {
      if (idle.warningShown) return;
      idle.activity();
      // Working in the page without calling the API still counts for identity: renew before its clock runs out.
      if (!renewing && sinceLastContact() > KEEP_ALIVE_MS) {
        renewing = true;
        void refreshSession().finally(() => (renewing = false));
      }
    };
    for (const name of ACTIVITY) window.addEventListener(name, onActivity, { passive: true });
    return () => {
      idle.stop();
      for (const name of ACTIVITY) window.removeEventListener(name, onActivity);
    };
  }, [limitMs, warningMs, clock]);

  const warning = left !== null;
  useEffect(() => {
    if (!warning) return;
    stayButton.current?.focus();
    // Modal: the page behind takes no focus or clicks while the warning shows.
    const behind = [...document.querySelectorAll<HTMLElement>("#root > :not(.overlay)")];
    for (const element of behind) element.inert = true;
    return () => {
      for (const element of behind) element.inert = false;
    };
  }, [warning]);

  if (!warning) return null;
  const stay = async () => {
    // The session is renewed on the server first; a session that has already ended signs the page out.
    if (await refreshSession()) {
      setLeft(null);
      timer.current?.stay();
    }
  };
  return (
    <div className="overlay">
      <div
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="idle-title"
        aria-describedby="idle-text"
        className="dialog"
        data-testid="idle-warning"
      >
        <h2 id="idle-title">{t("idle.title")}</h2>
        <p id="idle-text">{t("idle.text")}</p>
        <p className="countdown" aria-live="off">
          {t("idle.left", { seconds: formatNumber(Math.ceil(left / 1000)) })}
        </p>
        <div className="dialog-actions">
          <button type="button" ref={stayButton} onClick={() => void stay()}>
            {t("idle.stay")}
          </button>
          <button type="button" className="link" onClick={onSignOut}>
            {t("nav.signOut")}
          </button>
        </div>
      </div>
    </div>
  );
}
