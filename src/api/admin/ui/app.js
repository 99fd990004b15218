// The console's shell: which page the location names, the navigation's current page, and the
// page title and summary that say at a glance how much state there is (resources by kind,
// pending operations). Pages are modules with `render(main)`, which may return a function that
// stops what the page keeps doing (polling) when another page is opened.
import { api, attempt, scopes, setUpLogin, status } from "./lib.js";
import * as topology from "./topology.js";
import * as resources from "./resources.js";
import * as operations from "./operations.js";
import * as calls from "./calls.js";
import * as faults from "./faults.js";

const PAGES = { topology, resources, operations, calls, faults };
const TITLES = { topology: "Topology", resources: "Resources", operations: "Operations", calls: "Calls", faults: "Faults & state" };
const SUMMARY_EVERY_MS = 3000;

let stopPage = null;
let pageName = "topology";

function currentPage() {
  const name = (location.hash || "").replace(/^#\//, "").split("?")[0];
  return PAGES[name] ? name : "topology";
}

async function open() {
  if (stopPage) stopPage();
  stopPage = null;
  pageName = currentPage();
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.page === pageName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  status("");
  const main = document.getElementById("content");
  main.replaceChildren();
  stopPage = (await attempt(() => PAGES[pageName].render(main))) || null;
  refreshSummary();
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** Title and header summary: `netplane — 2 networks · 3 subnets · 1 instance · 0 pending`. */
async function refreshSummary() {
  const all = await attempt(scopes);
  const pending = await attempt(() => api("/_netplane/operations?pending=true"));
  if (!all || !pending) return;
  const sum = (kind) => [...all.folders, ...all.projects].reduce((n, s) => n + (s.counts[kind] || 0), 0);
  const parts = [
    plural(sum("network"), "network", "networks"),
    plural(sum("subnet"), "subnet", "subnets"),
    plural(sum("instance"), "instance", "instances"),
    plural(sum("huawei_vpc"), "VPC", "VPCs"),
    plural(sum("nat_gateway"), "NAT gateway", "NAT gateways"),
    `${pending.operations.length} pending`,
  ];
  const summary = parts.join(" · ");
  document.getElementById("summary").textContent = summary;
  document.title = `netplane — ${summary} — ${TITLES[pageName]}`;
}

setUpLogin(open);
window.addEventListener("hashchange", open);
setInterval(refreshSummary, SUMMARY_EVERY_MS);
open();
