// Calls: the request journal, live (polled every second for the calls after the last one shown),
// filtered by method, outcome code and request id on the server. A call that started an operation
// links to it on the operations page. The console's own calls are not in the journal.
import { api, attempt, el, hashParams, setHashParams, show } from "./lib.js";

const POLL_MS = 1000;
const KEEP = 500;

export async function render(main) {
  const params = hashParams();
  const method = el("input", { id: "call-method", size: 42, value: params.get("method") || "", placeholder: "yandex.cloud.vpc.v1.NetworkService/Create" });
  const code = el("input", { id: "call-code", size: 14, value: params.get("code") || "", placeholder: "NOT_FOUND or 404" });
  const requestId = el("input", { id: "call-request-id", size: 36, value: params.get("request_id") || "" });
  const live = el("input", { id: "call-live", type: "checkbox", checked: true });
  const body = el("tbody", { id: "call-rows" });
  let calls = [];
  let last = "";
  const filters = () => {
    const f = { method: method.value.trim(), code: code.value.trim(), request_id: requestId.value.trim() };
    return Object.fromEntries(Object.entries(f).filter(([, v]) => v));
  };
  const draw = () => {
    body.replaceChildren(...calls.slice().reverse().map(row));
    if (!calls.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No call matches yet.")));
  };
  const poll = async () => {
    const query = new URLSearchParams({ ...filters(), limit: "200" });
    if (last) query.set("since", last);
    const answer = await api(`/_netplane/requests?${query}`);
    if (answer.requests.length) {
      calls = calls.concat(answer.requests).slice(-KEEP);
      last = calls[calls.length - 1].request_id;
      draw();
    }
  };
  const restart = async (event) => {
    if (event) event.preventDefault();
    setHashParams(filters());
    calls = [];
    last = "";
    draw();
    await attempt(poll);
  };
  main.append(
    el("h1", {}, "Calls"),
    el(
      "form",
      { class: "toolbar", onsubmit: restart },
      el("label", {}, "Method", method),
      el("label", {}, "Code", code),
      el("label", {}, "Request id", requestId),
      el("button", { type: "submit", id: "call-apply" }, "Filter"),
      el("label", {}, el("span", {}, "Live"), live),
    ),
    el(
      "table",
      { id: "calls" },
      el("thead", {}, el("tr", {}, ["Time", "Protocol", "Method", "Path", "Code", "ms", "Request id", "Operation"].map((h) => el("th", { scope: "col" }, h)))),
      body,
    ),
  );
  await restart();
  const timer = setInterval(() => live.checked && attempt(poll), POLL_MS);
  return () => clearInterval(timer);
}

function row(call) {
  return el(
    "tr",
    { "data-request-id": call.request_id },
    el("td", { class: "nowrap" }, call.time.replace("T", " ").replace(/\.\d+Z$/, "Z")),
    el("td", {}, call.protocol),
    el("td", {}, el("button", { class: "quiet mono", onclick: () => show(`call ${call.request_id}`, call) }, call.method)),
    el("td", { class: "mono" }, `${call.http_method} ${call.path}`),
    el("td", { class: call.code === "OK" || /^2/.test(call.code) ? "good" : "bad" }, call.code),
    el("td", {}, call.duration_ms.toFixed(2)),
    el("td", { class: "mono" }, call.request_id),
    el("td", {}, call.operation_id ? el("a", { class: "mono operation-link", href: `#/operations?id=${encodeURIComponent(call.operation_id)}` }, call.operation_id) : ""),
  );
}
