import "@fontsource-variable/inter";
import "@fontsource-variable/fraunces/opsz.css";
import "@fontsource-variable/fraunces/wght-italic.css";
import "./styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApi } from "./api/client";
import { App } from "./App";
import { authorizedFetch, createAuth } from "./auth/signin";
import { loadConfig } from "./config";
import { forgetSignedInFiles } from "./device/cache";
import { createDeviceStylizer } from "./device/runner";

const root = createRoot(document.getElementById("root")!);

loadConfig().then(
  async (config) => {
    // Back from the hosted sign-in page: trade its one-time code for tokens before the app asks for jobs.
    const auth = config.auth && createAuth(config.auth, undefined, { onSignOut: () => forgetSignedInFiles() });
    await auth?.complete().catch((error: unknown) => console.warn("sign-in did not complete:", error));
    const signedFetch = auth ? authorizedFetch(auth.authorization) : undefined;
    const api = createApi(config.apiBaseUrl, undefined, signedFetch);
    root.render(
      <StrictMode>
        <App api={api} config={config} device={createDeviceStylizer(config, { signedFetch })} auth={auth} />
      </StrictMode>,
    );
  },
  (error: Error) =>
    root.render(
      <main className="fatal" role="alert">
        <h1>This site is not set up correctly</h1>
        <p>Its configuration could not be read: {error.message}.</p>
        <p className="muted">If you run it, publish a config.json beside index.html (see the README).</p>
      </main>,
    ),
);
