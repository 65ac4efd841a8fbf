// Polling: call `tick` every `interval` ms, one call at a time, until it returns false, stop() is
// called or it throws (then `onError`). Waits while the page is hidden.

export interface Poller {
  stop(): void;
  readonly running: boolean;
}

export interface PollOptions {
  interval?: number;
  onError?: (err: unknown) => void;
  /** for tests */
  isHidden?: () => boolean;
}

export const POLL_INTERVAL = 3000;

export function poll(tick: () => Promise<boolean> | boolean, options: PollOptions = {}): Poller {
  const interval = options.interval ?? POLL_INTERVAL;
  const isHidden = options.isHidden ?? (() => document.hidden);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = true;

  const schedule = (): void => {
    if (running) timer = setTimeout(() => { void step(); }, interval);
  };
  const step = async (): Promise<void> => {
    if (!running) return;
    if (isHidden()) { schedule(); return; }
    try {
      const more = await tick();
      if (!more) running = false;
    } catch (err) {
      running = false;
      options.onError?.(err);
    }
    schedule();
  };
  schedule();
  return {
    stop(): void { running = false; clearTimeout(timer); },
    get running(): boolean { return running; },
  };
}
