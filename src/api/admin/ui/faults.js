// Faults and state: the fault rules (list with their counts, add from a form, remove one or all),
// and the state controls: reset (everything, or one folder or project), export as a file, import
// from a file.
import { api, attempt, el, show, status } from "./lib.js";

const CODES = ["UNAVAILABLE", "INTERNAL", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "FAILED_PRECONDITION", "ABORTED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "INVALID_ARGUMENT", "UNAUTHENTICATED", "UNIMPLEMENTED", "CANCELLED", "UNKNOWN", "OUT_OF_RANGE", "DATA_LOSS"];
const ARM_MS = 5000;

export async function render(main) {
  const list = el("div", { id: "fault-rules" });
  const refresh = async () => {
    const answer = await api("/_netplane/faults");
    list.replaceChildren(rules(answer.rules, refresh));
  };
  main.append(el("h1", {}, "Faults"), list, form(refresh), el("h1", {}, "State"), stateControls());
  await refresh();
}

function rules(all, refresh) {
  if (!all.length) return el("p", { class: "empty" }, "No fault rule is set.");
  const remove = async (id) => {
    if (await attempt(() => api(`/_netplane/faults/${encodeURIComponent(id)}`, { method: "DELETE" })) !== undefined) {
      status(`removed rule ${id}`);
      await refresh();
    }
  };
  const action = (r) =>
    r.error ? `error ${r.error.code}: ${r.error.message}` : r.operation_error ? `operation error ${r.operation_error.code}: ${r.operation_error.message}` : r.stall ? "stall" : `delay ${r.delay}`;
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ["Id", "Method", "Match", "After", "Times", "Hits", "Applied", "Does", ""].map((h) => el("th", { scope: "col" }, h)))),
    el(
      "tbody",
      {},
      all.map((r) =>
        el(
          "tr",
          { "data-id": r.id },
          el("td", {}, el("button", { class: "quiet mono", onclick: () => show(`fault rule ${r.id}`, r) }, r.id)),
          el("td", { class: "mono" }, r.method),
          el("td", { class: "mono" }, r.match && Object.keys(r.match).length ? JSON.stringify(r.match) : "any request"),
          el("td", {}, String(r.after)),
          el("td", {}, r.times === undefined ? "always" : String(r.times)),
          el("td", {}, String(r.hits)),
          el("td", {}, String(r.applied)),
          el("td", {}, action(r)),
          el("td", {}, el("button", { class: "danger remove", "aria-label": `remove rule ${r.id}`, onclick: () => remove(r.id) }, "Remove")),
        ),
      ),
    ),
  );
}

function form(refresh) {
  const method = el("input", { id: "fault-method", name: "method", size: 44, required: true, placeholder: "yandex.cloud.vpc.v1.NetworkService/Create or NAT API name" });
  const match = el("textarea", { id: "fault-match", name: "match", placeholder: '{"name": "net-a"}' });
  const after = el("input", { id: "fault-after", type: "number", min: 0, value: 0 });
  const times = el("input", { id: "fault-times", type: "number", min: 1, placeholder: "always" });
  const kind = el("select", { id: "fault-action" },
    el("option", { value: "error" }, "answer an error"),
    el("option", { value: "operation_error" }, "accept, then fail the operation"),
    el("option", { value: "stall" }, "accept, keep the operation pending"),
    el("option", { value: "delay" }, "delay the answer"));
  const code = el("select", { id: "fault-code" }, CODES.map((c) => el("option", { value: c }, c)));
  const message = el("input", { id: "fault-message", size: 36, value: "injected by netplane's console" });
  const httpStatus = el("input", { id: "fault-status", type: "number", min: 100, max: 599, placeholder: "Huawei only" });
  const errorCode = el("input", { id: "fault-error-code", size: 14, placeholder: "Huawei only" });
  const delay = el("input", { id: "fault-delay", size: 10, value: "500ms" });
  const submit = async (event) => {
    event.preventDefault();
    const rule = { method: method.value.trim(), after: Number(after.value) || 0 };
    const text = match.value.trim();
    if (text) {
      try {
        rule.match = JSON.parse(text);
      } catch (e) {
        status(`match is not JSON: ${e.message}`, true);
        match.focus();
        return;
      }
    }
    if (times.value) rule.times = Number(times.value);
    switch (kind.value) {
      case "error":
        rule.error = { code: code.value, message: message.value };
        if (httpStatus.value) rule.error.status = Number(httpStatus.value);
        if (errorCode.value.trim()) rule.error.error_code = errorCode.value.trim();
        break;
      case "operation_error":
        rule.operation_error = { code: code.value, message: message.value };
        break;
      case "stall":
        rule.stall = true;
        break;
      default:
        rule.delay = delay.value.trim();
    }
    const added = await attempt(() => api("/_netplane/faults", { method: "POST", body: rule }));
    if (added) {
      status(`added rule ${added.id} for ${added.method}`);
      show(`fault rule ${added.id}`, added);
      await refresh();
    }
  };
  return el(
    "form",
    { id: "fault-form", onsubmit: submit },
    el("h2", {}, "Add a rule"),
    el("div", { class: "toolbar" }, el("label", {}, "Method", method), el("label", {}, "Match (JSON of request fields)", match)),
    el("div", { class: "toolbar" }, el("label", {}, "After (matches let through first)", after), el("label", {}, "Times", times), el("label", {}, "Then", kind)),
    el("div", { class: "toolbar" }, el("label", {}, "Code", code), el("label", {}, "Message", message), el("label", {}, "HTTP status", httpStatus),
      el("label", {}, "error_code", errorCode), el("label", {}, "Delay", delay)),
    el("div", { class: "toolbar" }, el("button", { type: "submit", id: "fault-add" }, "Add rule"),
      el("button", { type: "button", class: "danger", id: "fault-remove-all", onclick: async () => {
        const answer = await attempt(() => api("/_netplane/faults", { method: "DELETE" }));
        if (answer) {
          status(`removed ${answer.removed} rules`);
          await refresh();
        }
      } }, "Remove all rules")),
  );
}

function stateControls() {
  const scope = el("input", { id: "reset-scope", size: 34, placeholder: "everything, or a folder / project id" });
  const reset = el("button", { type: "button", class: "danger", id: "reset" }, "Reset");
  let armed = null;
  reset.addEventListener("click", async () => {
    // Two presses: a reset cannot be undone (export first to keep the state).
    if (!armed) {
      reset.textContent = scope.value.trim() ? `Press again to reset ${scope.value.trim()}` : "Press again to reset everything";
      armed = setTimeout(() => { armed = null; reset.textContent = "Reset"; }, ARM_MS);
      return;
    }
    clearTimeout(armed);
    armed = null;
    reset.textContent = "Reset";
    const id = scope.value.trim();
    const body = id ? (/^[0-9a-f]{32}$/.test(id) ? { project_id: id } : { folder_id: id }) : {};
    const answer = await attempt(() => api("/_netplane/reset", { method: "POST", body }));
    if (answer) status(`reset: removed ${answer.removed.resources} resources, ${answer.removed.operations} operations, ${answer.removed.claims} claims`);
  });
  const exportState = async () => {
    const text = await attempt(() => api("/_netplane/state", { text: true }));
    if (text === undefined) return;
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: "netplane-state.json" });
    document.body.append(link);
    link.click();
    link.remove();
    status(`exported ${JSON.parse(text).resources.length} resources`);
  };
  const file = el("input", { id: "import-file", type: "file", accept: "application/json,.json" });
  const importState = async () => {
    if (!file.files.length) {
      status("choose a state file first", true);
      file.focus();
      return;
    }
    const text = await file.files[0].text();
    const answer = await attempt(() => api("/_netplane/state", { method: "PUT", body: text }));
    if (answer) status(`imported ${answer.imported.resources} resources, ${answer.imported.operations} operations, ${answer.imported.claims} claims`);
  };
  return el(
    "div",
    {},
    el("div", { class: "toolbar" }, el("label", {}, "Reset scope", scope), reset),
    el("div", { class: "toolbar" }, el("button", { type: "button", class: "quiet", id: "export", onclick: exportState }, "Export state"),
      el("label", {}, "State file", file), el("button", { type: "button", id: "import", onclick: importState }, "Import state")),
  );
}
