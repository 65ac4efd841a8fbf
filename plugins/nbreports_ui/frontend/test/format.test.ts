import { describe, expect, it } from "vitest";
import { bytes, json, pageRange, paramLines, percent, seconds, short, when } from "../src/lib/format";

describe("format", () => {
  it("when", () => {
    expect(when("2024-06-01T06:00:00+02:00")).toBe("2024-06-01 04:00:00 UTC");
    expect(when(null)).toBe("—");
    expect(when("not a date")).toBe("—");
  });
  it("seconds", () => {
    expect(seconds(4.21)).toBe("4.2 s");
    expect(seconds(125)).toBe("2 min 5 s");
    expect(seconds(119.7)).toBe("2 min 0 s");
    expect(seconds(null)).toBe("—");
    expect(seconds(0)).toBe("0.0 s");
  });
  it("bytes", () => {
    expect(bytes(512)).toBe("512 B");
    expect(bytes(52_428_800)).toBe("50.0 MiB");
    expect(bytes(0)).toBe("—");
    expect(bytes(null)).toBe("—");
  });
  it("json, short, percent, paramLines, pageRange", () => {
    expect(json("EU")).toBe("EU");
    expect(json(["a", 1])).toBe('["a",1]');
    expect(json(undefined)).toBe("");
    expect(short("0123456789abcdef")).toBe("0123456789ab");
    expect(short(null)).toBe("—");
    expect(percent(0.875)).toBe("88%");
    expect(percent(null)).toBe("—");
    expect(paramLines({ region: "EU", products: ["w"] })).toBe('region=EU\nproducts=["w"]');
    expect(pageRange(25, 25, 1234, false)).toBe("26–50 of 1,234+");
    expect(pageRange(0, 0, 0, true)).toBe("");
  });
});
