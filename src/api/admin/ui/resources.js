// Resources: one kind of one folder or project at a time, as the public API lists it: the API's
// own filter (Yandex's `filter` expression; Huawei's query parameters), its paging (page tokens;
// markers), each row's resource as JSON and, for Yandex resources, the operations about it.
import { HUAWEI_KINDS, YANDEX_KINDS, api, attempt, el, firstScope, hashParams, scopeSelect, scopes, setHashParams, show, status } from "./lib.js";

const PAGE_SIZE = 50;

export async function render(main) {
  const all = await scopes();
  const params = hashParams();
  const state = {
    scope: params.get("scope") || firstScope(all),
    kind: params.get("kind") || "",
    filter: params.get("filter") || "",
    pageSize: Number(params.get("pageSize")) || PAGE_SIZE,
    tokens: [""],
  };
  const kindSelect = el("select", { id: "kind" });
  const filter = el("input", { id: "filter", size: 40, value: state.filter });
  const pageSize = el("input", { id: "page-size", type: "number", min: 1, max: 1000, value: state.pageSize });
  const table = el("div", { id: "resource-table" });
  const pager = el("div", { class: "toolbar" });

  const cloud = () => state.scope.split(":")[0];
  const kinds = () => (cloud() === "huawei" ? HUAWEI_KINDS : YANDEX_KINDS);
  const fillKinds = () => {
    kindSelect.replaceChildren(...kinds().map((k) => el("option", { value: k.key, selected: k.key === state.kind }, k.label)));
    if (!kinds().some((k) => k.key === state.kind)) state.kind = kinds()[0].key;
    kindSelect.value = state.kind;
    filter.placeholder = cloud() === "huawei" ? "query parameters, e.g. name=nat&status=ACTIVE" : 'filter, e.g. name="net-a"';
  };
  const load = async (page) => {
    state.filter = filter.value.trim();
    state.pageSize = Math.max(1, Math.min(1000, Number(pageSize.value) || PAGE_SIZE));
    setHashParams({ scope: state.scope, kind: state.kind, filter: state.filter, pageSize: state.pageSize });
    const answer = await attempt(() => fetchPage(state, page));
    if (!answer) return;
    status(`${answer.items.length} ${kinds().find((k) => k.key === state.kind).label.toLowerCase()} on page ${page + 1}`);
    state.tokens[page + 1] = answer.next;
    table.replaceChildren(rows(state, answer.items));
    pager.replaceChildren(
      el("button", { class: "quiet", id: "first-page", disabled: page === 0, onclick: () => load(0) }, "First page"),
      el("button", { class: "quiet", id: "previous-page", disabled: page === 0, onclick: () => load(page - 1) }, "Previous page"),
      el("button", { class: "quiet", id: "next-page", disabled: !answer.next, onclick: () => load(page + 1) }, "Next page"),
    );
  };
  const restart = () => {
    state.tokens = [""];
    load(0);
  };
  kindSelect.addEventListener("change", () => {
    state.kind = kindSelect.value;
    restart();
  });
  const form = el(
    "form",
    { class: "toolbar", onsubmit: (event) => { event.preventDefault(); restart(); } },
    scopeSelect(all, state.scope, (c, id) => {
      state.scope = `${c}:${id}`;
      fillKinds();
      restart();
    }),
    el("label", {}, "Kind", kindSelect),
    el("label", {}, "Filter", filter),
    el("label", {}, "Page size", pageSize),
    el("button", { type: "submit", id: "apply" }, "List"),
  );
  main.append(el("h1", {}, "Resources"), form, table, pager);
  if (!state.scope) {
    table.append(el("p", { class: "empty" }, "No folder or project holds resources yet."));
    return;
  }
  fillKinds();
  await load(0);
}

/** One page: `{items, next}` (the next page's token or marker, empty on the last page). */
async function fetchPage(state, page) {
  const [cloud, scopeId] = state.scope.split(":");
  if (cloud === "huawei") {
    const kind = HUAWEI_KINDS.find((k) => k.key === state.kind);
    const query = new URLSearchParams(state.filter);
    query.set("limit", String(state.pageSize));
    if (state.tokens[page]) query.set("marker", state.tokens[page]);
    const answer = await api(`${kind.path(scopeId)}?${query}`);
    const items = answer[kind.key] || [];
    const next = answer.page_info ? answer.page_info.next_marker || "" : (items.length === state.pageSize ? items[items.length - 1].id : "");
    return { items, next };
  }
  const kind = YANDEX_KINDS.find((k) => k.key === state.kind);
  const query = new URLSearchParams({ folderId: scopeId, pageSize: String(state.pageSize) });
  if (state.filter) query.set("filter", state.filter);
  if (state.tokens[page]) query.set("pageToken", state.tokens[page]);
  const answer = await api(`${kind.path}?${query}`);
  return { items: answer[kind.key] || [], next: answer.nextPageToken || "" };
}

function rows(state, items) {
  if (!items.length) return el("p", { class: "empty" }, "None on this page.");
  const yandex = state.scope.startsWith("yandex:");
  const kind = (yandex ? YANDEX_KINDS : HUAWEI_KINDS).find((k) => k.key === state.kind);
  const select = (tr, title, value) => {
    for (const other of document.querySelectorAll("#resource-table tr.selected")) other.classList.remove("selected");
    tr.classList.add("selected");
    show(title, value);
  };
  const body = items.map((item) => {
    const tr = el("tr", { "data-id": item.id });
    const operations = async () => {
      const answer = await attempt(() => api(`${kind.ops.replace("{id}", item.id)}?pageSize=100`));
      if (answer) select(tr, `operations of ${item.id}`, answer.operations || []);
    };
    tr.append(
      el("td", {}, el("button", { class: "quiet mono", "aria-label": `show ${item.name || item.id}`, onclick: () => select(tr, `${kind.label} ${item.id}`, item) }, item.id)),
      el("td", {}, item.name || ""),
      el("td", {}, item.status || ""),
      el("td", {}, summary(state.kind, item)),
      el("td", {}, item.createdAt || item.created_at || ""),
      el("td", {}, yandex ? el("button", { class: "quiet", onclick: operations }, "Operations") : el("span", { class: "muted" }, "none (synchronous API)")),
    );
    return tr;
  });
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ["Id", "Name", "Status", "What", "Created", "Operations"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, body),
  );
}

/** A short description of a row: what matters about that kind at a glance. */
function summary(kind, item) {
  switch (kind) {
    case "subnets":
      return item.v4CidrBlocks ? item.v4CidrBlocks.join(", ") : item.cidr || "";
    case "instances":
      return (item.networkInterfaces || [])
        .map((n) => {
          const v4 = n.primaryV4Address || {};
          return `eth${n.index} ${v4.address || ""}${v4.oneToOneNat && v4.oneToOneNat.address ? ` NAT ${v4.oneToOneNat.address}` : ""}`;
        })
        .join("; ");
    case "addresses":
      return (item.externalIpv4Address || item.internalIpv4Address || {}).address || "";
    case "vpcs":
      return item.cidr || "";
    case "transit_ips":
      return item.ip_address || "";
    case "dnat_rules":
      return `${item.private_ip_address || ""}:${item.internal_service_port} ← ${item.transit_ip_id}:${item.transit_service_port}`;
    case "disks":
      return `${Math.round(Number(item.size || 0) / 2 ** 30)} GiB ${item.typeId || ""}`;
    default:
      return "";
  }
}
