import { describe, expect, it } from "vitest";
import { ApiError, errorFrom } from "../src/api/client";

function answer(status: number, body: unknown): Response {
  return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
}

describe("errorFrom", () => {
  it("reads a filter error's position from the details field, not from the message", async () => {
    const error = await errorFrom(
      answer(400, {
        error_code: "INVALID_PARAMETER_VALUE",
        message: "Invalid filter 'metrics.a > ': expected a value at position 12",
        details: { position: 7 },
      }),
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("INVALID_PARAMETER_VALUE");
    expect(error.position).toBe(7);
  });

  it("has no position when the body has no details, whatever the message says", async () => {
    const error = await errorFrom(
      answer(400, { error_code: "INVALID_PARAMETER_VALUE", message: "bad at position 3" }),
    );
    expect(error.position).toBeNull();
    expect(error.message).toBe("bad at position 3");
  });

  it("ignores a position that is not a non-negative integer", async () => {
    for (const position of [-1, 1.5, "4", null]) {
      const error = await errorFrom(
        answer(400, { error_code: "BAD_REQUEST", message: "m", details: { position } }),
      );
      expect(error.position).toBeNull();
    }
  });

  it("keeps the status line for a body that is not JSON", async () => {
    const error = await errorFrom(answer(502, "<html>bad gateway</html>"));
    expect(error.code).toBe("HTTP_502");
    expect(error.position).toBeNull();
  });
});
