// Operations: the pending ones and the latest ones, with their metadata and result. A pending
// operation can be completed or failed by hand (what `--operations manual` and the `stall` fault
// wait for) or cancelled through the public OperationService.Cancel. Refreshed every two seconds.
import { api, attempt, el, hashParams, show, status } from "./lib.js";

const REFRESH_MS = 2000;
const CODES = ["INTERNAL", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

export async function render(main) {
  const focus = hashParams().get("id");
  const pending = el("div", { id: "pending-operations" });
  const latest = el("div", { id: "latest-operations" });
  const failCode = el("select", { id: "fail-code" }, CODES.map((c) => el("option", { value: c }, c)));
  const failMessage = el("input", { id: "fail-message", size: 40, value: "failed from netplane's console" });
  main.append(
    el("h1", {}, "Operations"),
    el("div", { class: "toolbar" }, el("label", {}, "Fail with code", failCode), el("label", {}, "and message", failMessage)),
    el("h2", {}, "Pending"),
    pending,
    el("h2", {}, "Latest"),
    latest,
  );
  const act = async (what, path, body, method = "POST") => {
    const answer = await attempt(() => api(path, { method, body }));
    if (answer) {
      status(`${what}: operation ${answer.id} is ${answer.done ? "done" : "pending"}${answer.error ? ` with error ${answer.error.message}` : ""}`);
      show(`operation ${answer.id}`, answer);
      await refresh();
    }
  };
  const refresh = async () => {
    const [open, recent] = await Promise.all([api("/_netplane/operations?pending=true"), api("/_netplane/operations")]);
    pending.replaceChildren(table(open.operations, true, act, failCode, failMessage, focus));
    latest.replaceChildren(table(recent.operations, false, act, failCode, failMessage, focus));
  };
  await refresh();
  if (focus) {
    const row = document.querySelector(`tr[data-id="${CSS.escape(focus)}"]`);
    if (row) row.querySelector("button").focus();
  }
  const timer = setInterval(() => attempt(refresh), REFRESH_MS);
  return () => clearInterval(timer);
}

function table(operations, pending, act, failCode, failMessage, focus) {
  if (!operations.length) return el("p", { class: "empty" }, pending ? "No operation is pending." : "No operation yet.");
  const rows = operations.map((op) => {
    const outcome = !op.done ? "pending" : op.error ? `error ${op.error.code}: ${op.error.message}` : "done";
    const id = encodeURIComponent(op.id);
    return el(
      "tr",
      { "data-id": op.id, class: op.id === focus ? "selected" : false },
      el("td", {}, el("button", { class: "quiet mono", onclick: () => show(`operation ${op.id}`, op) }, op.id)),
      el("td", {}, op.description || ""),
      el("td", {}, op.createdAt || ""),
      el("td", { class: op.error ? "bad" : op.done ? "good" : "" }, outcome),
      el("td", {}, metadataSummary(op.metadata)),
      el(
        "td",
        {},
        pending
          ? [
            el("button", { class: "complete", onclick: () => act("completed", `/_netplane/operations/${id}:complete`) }, "Complete"),
            " ",
            el("button", { class: "danger fail", onclick: () => act("failed", `/_netplane/operations/${id}:fail`, { code: failCode.value, message: failMessage.value }) }, "Fail"),
            " ",
            el("button", { class: "quiet cancel", onclick: () => act("cancel asked", `/operations/${id}:cancel`, undefined, "GET") }, "Cancel"),
          ]
          : "",
      ),
    );
  });
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ["Id", "Description", "Created", "Outcome", "About", pending ? "Step" : ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows),
  );
}

/** The ids a metadata names (`networkId`, `instanceId`, …), in a line. */
function metadataSummary(metadata) {
  if (!metadata) return "";
  return Object.entries(metadata)
    .filter(([key]) => key !== "@type")
    .map(([key, value]) => `${key} ${typeof value === "object" ? JSON.stringify(value) : value}`)
    .join(", ");
}
