import { errorCodes } from "../test/contract";
import { ApiError } from "./errors";
import { describeError } from "./messages";

describe("error messages", () => {
  it("has its own message for every error code in openapi.yaml", () => {
    expect(errorCodes.length).toBeGreaterThan(5);
    for (const code of errorCodes) {
      const notice = describeError(new ApiError(code, "server says"));
      expect(notice.code).toBe(code);
      expect(notice.title).not.toBe("Something went wrong");
      expect(notice.message.length).toBeGreaterThan(10);
    }
  });

  it("tells the person what to do for the common failures", () => {
    expect(describeError(new ApiError("invalid_image", "x")).title).toMatch(/isn’t a photo/);
    expect(describeError(new ApiError("payload_too_large", "x")).title).toMatch(/too large/);
    expect(describeError(new ApiError("unknown_style", "x")).message).toMatch(/Reload/);
    expect(describeError(new ApiError("network_error", "x")).message).toMatch(/connection/);
    expect(describeError(new ApiError("rate_limited", "x", 429)).message).toMatch(/Wait a few minutes/);
  });

  it("shows the server's sentence where it says exactly what was wrong", () => {
    expect(describeError(new ApiError("invalid_parameter", "strength must be 0..1")).detail).toBe("strength must be 0..1");
    expect(describeError(new ApiError("invalid_image", "cannot identify image file")).detail).toBeUndefined();
  });

  it("falls back to the server's message for a code it does not know", () => {
    expect(describeError(new ApiError("brand_new_code", "Something specific."))).toMatchObject({
      title: "Something went wrong",
      message: "Something specific.",
    });
    expect(describeError(new Error("boom")).code).toBe("internal_error");
  });
});
