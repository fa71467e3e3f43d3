import "@fontsource-variable/inter";
import "@fontsource-variable/fraunces/opsz.css";
import "@fontsource-variable/fraunces/wght-italic.css";
import "./styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { App } from "./App";
import { loadConfig } from "./config";
import { createDeviceStylizer } from "./device/runner";

const root = createRoot(document.getElementById("root")!);

loadConfig().then(
  (config) =>
    root.render(
      <StrictMode>
        <App api={createApi(config.apiBaseUrl)} config={config} device={createDeviceStylizer(config)} />
      </StrictMode>,
    ),
  (error: Error) =>
    root.render(
      <main className="fatal" role="alert">
        <h1>This site is not set up correctly</h1>
        <p>Its configuration could not be read: {error.message}.</p>
        <p className="muted">If you run it, publish a config.json beside index.html (see the README).</p>
      </main>,
    ),
);
