// ID-7: a session ends after 20 minutes without activity. Identity ends it on its side (its
// IDENTITY_SESSION_IDLE_TIMEOUT_SECONDS, 20 * 60 by default, counted from the last call the server saw); the API
// does not tell the limit (neither /v1/me nor the tokens carry it), so the console mirrors identity's setting here.
// The console counts the user's own activity (keys, pointer, touch), warns a minute before the end, and signs out
// at the limit; a user who keeps working without calling the API keeps the server's session alive too (keepAlive).

/** Identity's idle limit (IDENTITY_SESSION_IDLE_TIMEOUT_SECONDS), mirrored. */
export const IDLE_LIMIT_MS = 20 * 60 * 1000;
/** How long before the sign-out the warning shows. */
export const IDLE_WARNING_MS = 60 * 1000;
/** A user active in the page whose session the server has not seen for this long renews it (well under the limit). */
export const KEEP_ALIVE_MS = 5 * 60 * 1000;

/** The clock the timer reads and schedules by: the browser's by default, a fake one in tests. */
export interface Clock {
  now: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

export const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
};

export interface IdleTimerOptions {
  limitMs?: number;
  warningMs?: number;
  clock?: Clock;
  /** The warning is due: this many milliseconds are left. Called again each second while it lasts. */
  onWarning: (leftMs: number) => void;
  /** The limit is reached. */
  onTimeout: () => void;
}

/**
 * Counts the time since the last activity and calls onWarning (every second, with the time left) in the last
 * warningMs, then onTimeout once. While the warning lasts, activity does not count: only stay() (the user's
 * explicit choice) starts the count again, so a stray mouse movement cannot hide the warning unread.
 */
export class IdleTimer {
  private readonly limitMs: number;
  private readonly warningMs: number;
  private readonly clock: Clock;
  private readonly onWarning: (leftMs: number) => void;
  private readonly onTimeout: () => void;
  private last: number;
  private handle: unknown = null;
  private warning = false;
  private stopped = false;

  constructor(options: IdleTimerOptions) {
    this.limitMs = options.limitMs ?? IDLE_LIMIT_MS;
    this.warningMs = Math.min(options.warningMs ?? IDLE_WARNING_MS, this.limitMs);
    this.clock = options.clock ?? browserClock;
    this.onWarning = options.onWarning;
    this.onTimeout = options.onTimeout;
    this.last = this.clock.now();
    this.schedule();
  }

  /** The user did something (outside the warning). */
  activity(): void {
    if (this.warning || this.stopped) return;
    this.last = this.clock.now();
  }

  /** The user chose to stay: the count starts again. */
  stay(): void {
    if (this.stopped) return;
    this.warning = false;
    this.last = this.clock.now();
    this.schedule();
  }

  get warningShown(): boolean {
    return this.warning;
  }

  stop(): void {
    this.stopped = true;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }

  private schedule(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    if (this.stopped) return;
    const left = this.last + this.limitMs - this.clock.now();
    if (left <= 0) {
      this.stopped = true;
      this.onTimeout();
      return;
    }
    if (left <= this.warningMs) {
      this.warning = true;
      this.onWarning(left);
      // Each second of the countdown, and the end exactly at the limit.
      this.handle = this.clock.setTimeout(() => this.schedule(), Math.min(left, left % 1000 || 1000));
      return;
    }
    // Activity only moves `last` on: wake when the warning would be due, and look again then.
    this.handle = this.clock.setTimeout(() => this.schedule(), left - this.warningMs);
  }
}
