import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { poll } from "../src/lib/poll";

describe("poll", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("ticks every interval until the tick says stop", async () => {
    let n = 0;
    const p = poll(() => ++n < 3, { interval: 1000, isHidden: () => false });
    await vi.advanceTimersByTimeAsync(999);
    expect(n).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(n).toBe(3);
    expect(p.running).toBe(false);
  });

  it("never overlaps a slow tick", async () => {
    let active = 0, most = 0, calls = 0;
    poll(async () => {
      calls++; active++; most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, 2500));
      active--;
      return calls < 3;
    }, { interval: 1000, isHidden: () => false });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls).toBe(3);
    expect(most).toBe(1);
  });

  it("stops on stop() and on an error", async () => {
    const tick = vi.fn(() => true);
    const p = poll(tick, { interval: 100, isHidden: () => false });
    await vi.advanceTimersByTimeAsync(250);
    p.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(tick).toHaveBeenCalledTimes(2);

    const onError = vi.fn();
    const q = poll(() => Promise.reject(new Error("boom")), { interval: 100, onError, isHidden: () => false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(onError).toHaveBeenCalledOnce();
    expect(q.running).toBe(false);
  });

  it("waits while the page is hidden", async () => {
    let hidden = true;
    const tick = vi.fn(() => true);
    poll(tick, { interval: 100, isHidden: () => hidden });
    await vi.advanceTimersByTimeAsync(1000);
    expect(tick).not.toHaveBeenCalled();
    hidden = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(tick).toHaveBeenCalledOnce();
  });
});
