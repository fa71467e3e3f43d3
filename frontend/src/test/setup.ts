import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

afterEach(() => cleanup());

// jsdom has no object URLs; the app only passes them to <img src> and <a href>.
let nextObjectUrl = 0;
URL.createObjectURL = () => `blob:test/${++nextObjectUrl}`;
URL.revokeObjectURL = () => undefined;
