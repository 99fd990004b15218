// What every page of the console shares: calls to the server (with the admin's token, marked as
// the console's own so the journal leaves them out), DOM builders that never parse markup (names
// come from clients and may hold anything), the detail panel, the status line, and the kinds of
// resources the public APIs list.

const CONSOLE_HEADER = "x-netplane-console";

/** An answer that was not 2xx: its HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

const isHuawei = (path) => /^\/v\d/.test(path);

/** Calls the server; resolves to the parsed JSON answer (null for an empty one). */
export async function api(path, { method = "GET", body, text = false } = {}) {
  const headers = { [CONSOLE_HEADER]: "1" };
  const iam = sessionStorage.getItem("netplane.iam");
  const auth = sessionStorage.getItem("netplane.auth");
  if (isHuawei(path)) {
    if (auth) headers["x-auth-token"] = auth;
    else if (iam) headers["x-auth-token"] = iam;
  } else if (iam) {
    headers["authorization"] = `Bearer ${iam}`;
  } else if (auth) {
    headers["x-auth-token"] = auth;
  }
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(path, { method, headers, body: body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body)) });
  const raw = await answer.text();
  let parsed = null;
  try { parsed = raw ? JSON.parse(raw) : null; } catch { parsed = raw; }
  if (!answer.ok) {
    if ((answer.status === 401 || answer.status === 403) && path.startsWith("/_netplane/")) askForToken();
    const message = parsed && typeof parsed === "object" ? (parsed.message || parsed.error_msg || JSON.stringify(parsed)) : String(parsed || answer.statusText);
    throw new ApiError(answer.status, `${answer.status}: ${message}`, parsed);
  }
  return text ? raw : parsed;
}

function askForToken() {
  const form = document.getElementById("login");
  if (!form.hidden) return;
  form.hidden = false;
  document.getElementById("login-iam").focus();
}

export function setUpLogin(onLogin) {
  const form = document.getElementById("login");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("netplane.iam", document.getElementById("login-iam").value.trim());
    sessionStorage.setItem("netplane.auth", document.getElementById("login-auth").value.trim());
    form.hidden = true;
    onLogin();
  });
}

/** An HTML element: attributes (`on…` functions become listeners) and children (strings are text). */
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, built like `el`. */
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Shows a value as JSON in the detail panel. */
export function show(title, value) {
  document.getElementById("detail-title").textContent = title;
  document.getElementById("detail").textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

/** The status line: what just happened, or what went wrong. */
export function status(message, bad = false) {
  const line = document.getElementById("status");
  line.textContent = message || "";
  line.className = bad ? "status bad" : "status";
}

/** Runs `work`, putting any error on the status line. */
export async function attempt(work) {
  try {
    return await work();
  } catch (error) {
    status(error.message || String(error), true);
    return undefined;
  }
}

/** Every item of a Yandex list (`pageToken` paging). */
export async function listAll(path, key, params = {}) {
  const items = [];
  let token = "";
  for (;;) {
    const query = new URLSearchParams({ ...params, pageSize: "1000" });
    if (token) query.set("pageToken", token);
    const page = await api(`${path}?${query}`);
    items.push(...((page && page[key]) || []));
    token = page && page.nextPageToken;
    if (!token) return items;
  }
}

/** Every item of a Huawei list (`marker` paging: the answer's next marker, else the last id). */
export async function listAllHuawei(path, key) {
  const items = [];
  let marker = "";
  for (;;) {
    const query = new URLSearchParams({ limit: "500" });
    if (marker) query.set("marker", marker);
    const page = await api(`${path}?${query}`);
    const got = (page && page[key]) || [];
    items.push(...got);
    const next = page && page.page_info ? page.page_info.next_marker : (got.length === 500 ? got[got.length - 1].id : "");
    if (!next || got.length === 0) return items;
    marker = next;
  }
}

/** The folders and Huawei projects that hold resources, with counts by kind. */
export function scopes() {
  return api("/_netplane/scopes");
}

/** Yandex kinds the resources page lists: REST list path, the answer's key, operations path. */
export const YANDEX_KINDS = [
  { key: "networks", label: "Networks", path: "/vpc/v1/networks", ops: "/vpc/v1/networks/{id}/operations" },
  { key: "subnets", label: "Subnets", path: "/vpc/v1/subnets", ops: "/vpc/v1/subnets/{id}/operations" },
  { key: "instances", label: "Instances", path: "/compute/v1/instances", ops: "/compute/v1/instances/{id}/operations" },
  { key: "disks", label: "Disks", path: "/compute/v1/disks", ops: "/compute/v1/disks/{id}/operations" },
  { key: "images", label: "Images", path: "/compute/v1/images", ops: "/compute/v1/images/{id}/operations" },
  { key: "addresses", label: "Addresses", path: "/vpc/v1/addresses", ops: "/vpc/v1/addresses/{id}/operations" },
  { key: "securityGroups", label: "Security groups", path: "/vpc/v1/securityGroups", ops: "/vpc/v1/securityGroups/{id}/operations" },
  { key: "routeTables", label: "Route tables", path: "/vpc/v1/routeTables", ops: "/vpc/v1/routeTables/{id}/operations" },
  { key: "gateways", label: "Gateways", path: "/vpc/v1/gateways", ops: "/vpc/v1/gateways/{id}/operations" },
];

/** Huawei kinds: list path in a project, the answer's key. Huawei calls start no operations. */
export const HUAWEI_KINDS = [
  { key: "vpcs", label: "VPCs", path: (p) => `/v1/${p}/vpcs` },
  { key: "subnets", label: "Subnets", path: (p) => `/v1/${p}/subnets` },
  { key: "ports", label: "Ports", path: (p) => `/v1/${p}/ports` },
  { key: "gateways", label: "Private NAT gateways", path: (p) => `/v3/${p}/private-nat/gateways` },
  { key: "transit_subnets", label: "Transit subnets", path: (p) => `/v3/${p}/private-nat/transit-subnets` },
  { key: "transit_ips", label: "Transit IPs", path: (p) => `/v3/${p}/private-nat/transit-ips` },
  { key: "dnat_rules", label: "DNAT rules", path: (p) => `/v3/${p}/private-nat/dnat-rules` },
  { key: "snat_rules", label: "SNAT rules", path: (p) => `/v3/${p}/private-nat/snat-rules` },
];

/** A select of the folders and projects, `chosen` selected; `onChange(cloud, id)`. */
export function scopeSelect(all, chosen, onChange) {
  const select = el("select", { id: "scope", onchange: () => onChange(...select.value.split(":")) });
  const group = (label, cloud, list) =>
    list.length ? el("optgroup", { label }, list.map((s) => el("option", { value: `${cloud}:${s.id}`, selected: `${cloud}:${s.id}` === chosen }, `${s.id} (${total(s.counts)})`))) : null;
  select.append(...[group("Yandex folders", "yandex", all.folders), group("Huawei projects", "huawei", all.projects)].filter(Boolean));
  if (!select.options.length) select.append(el("option", { value: "" }, "no resources yet"));
  return el("label", {}, "Folder or project", select);
}

/** The first scope (`cloud:id`) that holds something, for pages opened without one. */
export function firstScope(all) {
  const folder = all.folders.find((f) => f.id !== "standard-images") || all.folders[0];
  if (folder) return `yandex:${folder.id}`;
  if (all.projects[0]) return `huawei:${all.projects[0].id}`;
  return "";
}

export function total(counts) {
  return Object.values(counts || {}).reduce((a, b) => a + b, 0);
}

/** The query part of the location's hash (`#/page?a=b`). */
export function hashParams() {
  const hash = location.hash || "";
  const at = hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
}

/** Replaces the hash's parameters without adding a history entry or re-rendering. */
export function setHashParams(params) {
  const page = (location.hash || "#/topology").split("?")[0];
  const query = new URLSearchParams(params).toString();
  history.replaceState(null, "", query ? `${page}?${query}` : page);
}

/** How many addresses a CIDR block holds. */
export function blockSize(cidr) {
  const prefix = Number(String(cidr).split("/")[1]);
  return Number.isFinite(prefix) ? 2 ** (32 - prefix) : 0;
}
