// GOV.UK Frontend's components (served by Townhall at /assets/). No inline scripts: CSP.
import { initAll } from "/assets/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
