import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { listenForSessionEnd, loadSession, onSignIn } from "./lib/auth";
import { forgetExperiments } from "./lib/experiments";
import "./styles.css";

listenForSessionEnd();
onSignIn(forgetExperiments);
void loadSession();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
