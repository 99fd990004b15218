// Topology: for a Yandex folder, networks → subnets → instances' interfaces (each interface's
// address and one-to-one NAT address on its edge), and the route tables subnets use with the
// gateways their routes name; for a Huawei project, VPCs → subnets → private NAT gateways → DNAT
// and SNAT rules → transit IPs → transit subnets. Drawn as SVG in columns. Every element can be
// focused (Tab) and activated (click, Enter or Space) to show its resource as the public API
// answers it.
import { api, blockSize, el, firstScope, hashParams, listAll, listAllHuawei, scopeSelect, scopes, setHashParams, show, svg } from "./lib.js";

const NODE_WIDTH = 185;
const COLUMN_GAP = 150;
const LINE = 15;
const TOP = 34;

export async function render(main) {
  const all = await scopes();
  const chosen = hashParams().get("scope") || firstScope(all);
  const area = el("div", { class: "topology", id: "topology" });
  const draw = async (cloud, id) => {
    setHashParams({ scope: `${cloud}:${id}` });
    area.replaceChildren(el("p", { class: "muted" }, "Loading…"));
    const picture = cloud === "huawei" ? await huawei(id) : await yandex(id);
    area.replaceChildren(picture);
  };
  main.append(
    el("h1", {}, "Topology"),
    el("div", { class: "toolbar" }, scopeSelect(all, chosen, draw), el("button", { class: "quiet", onclick: () => draw(...document.getElementById("scope").value.split(":")) }, "Refresh")),
    el("p", { class: "legend" }, "Tab to an element and press Enter (or click it) to see its resource. Dashed lines are route-table links and routes."),
    area,
  );
  if (chosen) await draw(...chosen.split(":"));
  else area.replaceChildren(el("p", { class: "empty" }, "Nothing to draw yet: create a network or a VPC."));
}

async function yandex(folderId) {
  const q = { folderId };
  const [networks, subnets, instances, routeTables, gateways] = await Promise.all([
    listAll("/vpc/v1/networks", "networks", q),
    listAll("/vpc/v1/subnets", "subnets", q),
    listAll("/compute/v1/instances", "instances", q),
    listAll("/vpc/v1/routeTables", "routeTables", q),
    listAll("/vpc/v1/gateways", "gateways", q),
  ]);
  const used = await Promise.all(subnets.map((s) => listAll(`/vpc/v1/subnets/${s.id}/addresses`, "addresses").catch(() => [])));
  const networkOrder = new Map(networks.map((n, i) => [n.id, i]));
  subnets.sort((a, b) => (networkOrder.get(a.networkId) ?? 1e9) - (networkOrder.get(b.networkId) ?? 1e9));
  const usedBySubnet = new Map(subnets.map((s, i) => [s.id, used[i].length]));
  const subnetOrder = new Map(subnets.map((s, i) => [s.id, i]));

  const interfaces = [];
  for (const vm of instances) {
    for (const nic of vm.networkInterfaces || []) interfaces.push({ vm, nic });
  }
  interfaces.sort((a, b) => (subnetOrder.get(a.nic.subnetId) ?? 1e9) - (subnetOrder.get(b.nic.subnetId) ?? 1e9));
  const linkedTables = routeTables.filter((t) => subnets.some((s) => s.routeTableId === t.id));
  const tableOrder = (t) => Math.min(...subnets.map((s, i) => (s.routeTableId === t.id ? i : 1e9)));
  const tables = [...linkedTables.sort((a, b) => tableOrder(a) - tableOrder(b)), ...routeTables.filter((t) => !linkedTables.includes(t))];

  const columns = [
    { title: "Networks", nodes: networks.map((n) => node("network", n.id, n, [n.name || n.id, n.id])) },
    {
      title: "Subnets",
      nodes: subnets.map((s) => {
        const size = (s.v4CidrBlocks || []).reduce((n, c) => n + blockSize(c), 0);
        const taken = usedBySubnet.get(s.id) || 0;
        return node("subnet", s.id, s, [s.name || s.id, `${(s.v4CidrBlocks || []).join(", ")} · ${s.zoneId || ""}`, `${taken} of ${size} addresses used`], { used: taken, size });
      }),
    },
    {
      title: "Interfaces",
      nodes: interfaces.map(({ vm, nic }) => node("interface", `${vm.id}/${nic.index}`, vm, [`${vm.name || vm.id} · eth${nic.index}`, `${vm.status} · ${vm.id}`])),
    },
    { title: "Route tables", nodes: tables.map((t) => node("route-table", t.id, t, [t.name || t.id, `${(t.staticRoutes || []).length} static routes`])) },
    { title: "Gateways", nodes: gateways.map((g) => node("gateway", g.id, g, [g.name || g.id, g.sharedEgressGateway ? "shared egress" : "gateway"])) },
  ];
  const edges = [];
  for (const s of subnets) edges.push({ from: s.networkId, to: s.id });
  for (const { vm, nic } of interfaces) {
    const v4 = nic.primaryV4Address || {};
    const nat = v4.oneToOneNat && v4.oneToOneNat.address ? ` · NAT ${v4.oneToOneNat.address}` : "";
    edges.push({ from: nic.subnetId, to: `${vm.id}/${nic.index}`, label: `${v4.address || "no IPv4"}${nat}` });
  }
  for (const s of subnets) if (s.routeTableId) edges.push({ from: s.id, to: s.routeTableId, cls: "route" });
  for (const t of tables) {
    for (const r of t.staticRoutes || []) if (r.gatewayId) edges.push({ from: t.id, to: r.gatewayId, cls: "route", label: r.destinationPrefix });
  }
  return picture(`Yandex folder ${folderId}`, columns, edges);
}

async function huawei(projectId) {
  const [vpcs, subnets, ports, gateways, transitSubnets, transitIps, dnat, snat] = await Promise.all([
    listAllHuawei(`/v1/${projectId}/vpcs`, "vpcs"),
    listAllHuawei(`/v1/${projectId}/subnets`, "subnets"),
    listAllHuawei(`/v1/${projectId}/ports`, "ports"),
    listAllHuawei(`/v3/${projectId}/private-nat/gateways`, "gateways"),
    listAllHuawei(`/v3/${projectId}/private-nat/transit-subnets`, "transit_subnets"),
    listAllHuawei(`/v3/${projectId}/private-nat/transit-ips`, "transit_ips"),
    listAllHuawei(`/v3/${projectId}/private-nat/dnat-rules`, "dnat_rules"),
    listAllHuawei(`/v3/${projectId}/private-nat/snat-rules`, "snat_rules"),
  ]);
  const vpcOrder = new Map(vpcs.map((v, i) => [v.id, i]));
  subnets.sort((a, b) => (vpcOrder.get(a.vpc_id) ?? 1e9) - (vpcOrder.get(b.vpc_id) ?? 1e9));
  const portsIn = (subnet) => ports.filter((p) => p.network_id === subnet.id).length;
  const rules = [...dnat.map((r) => ({ type: "dnat", r })), ...snat.map((r) => ({ type: "snat", r }))];
  const subnetName = new Map(subnets.map((s) => [s.id, s.name]));
  const columns = [
    { title: "VPCs", nodes: vpcs.map((v) => node("vpc", v.id, v, [v.name || v.id, v.cidr || ""])) },
    {
      title: "Subnets",
      nodes: subnets.map((s) => {
        const size = blockSize(s.cidr);
        const taken = portsIn(s);
        return node("huawei-subnet", s.id, s, [s.name || s.id, s.cidr, `${taken} ports of ${size} addresses`], { used: taken, size });
      }),
    },
    { title: "Private NAT gateways", nodes: gateways.map((g) => node("nat-gateway", g.id, g, [g.name || g.id, `${g.spec} · ${g.status}`])) },
    {
      title: "Rules",
      nodes: rules.map(({ type, r }) =>
        type === "dnat"
          ? node("dnat-rule", r.id, r, [`DNAT ${r.protocol}`, `${r.private_ip_address}:${r.internal_service_port} ← :${r.transit_service_port}`])
          : node("snat-rule", r.id, r, ["SNAT", r.cidr || `subnet ${subnetName.get(r.virsubnet_id) || r.virsubnet_id}`]),
      ),
    },
    { title: "Transit IPs", nodes: transitIps.map((t) => node("transit-ip", t.id, t, [t.ip_address, t.id])) },
    {
      title: "Transit subnets",
      nodes: transitSubnets.map((t) => node("transit-subnet", t.id, t, [t.name || t.id, `${t.cidr} · subnet ${subnetName.get(t.virsubnet_id) || t.virsubnet_id}`])),
    },
  ];
  const edges = [];
  for (const s of subnets) edges.push({ from: s.vpc_id, to: s.id });
  for (const g of gateways) for (const d of g.downlink_vpcs || []) edges.push({ from: d.virsubnet_id, to: g.id, label: d.ngport_ip_address });
  for (const { type, r } of rules) {
    edges.push({ from: r.gateway_id, to: r.id, label: type === "dnat" ? r.private_ip_address : "" });
    if (type === "dnat") edges.push({ from: r.id, to: r.transit_ip_id, label: `${ipOf(transitIps, r.transit_ip_id)}:${r.transit_service_port}` });
    for (const a of r.transit_ip_associations || []) edges.push({ from: r.id, to: a.transit_ip_id, label: a.transit_ip_address });
  }
  // A transit IP names the VPC subnet it lies in; its transit subnet is the one over that subnet.
  for (const t of transitIps) {
    const over = transitSubnets.find((ts) => ts.virsubnet_id === t.virsubnet_id);
    if (over) edges.push({ from: t.id, to: over.id });
  }
  return picture(`Huawei project ${projectId}`, columns, edges);
}

const ipOf = (ips, id) => (ips.find((t) => t.id === id) || {}).ip_address || "?";

function node(kind, id, value, lines, bar) {
  return { kind, id, value, lines: lines.filter((l) => l !== undefined && l !== ""), bar };
}

/** Lays the columns out left to right and draws edges under the nodes. */
function picture(label, columns, edges) {
  const placed = new Map();
  let height = 0;
  columns.forEach((column, c) => {
    let y = TOP;
    for (const n of column.nodes) {
      const h = 12 + n.lines.length * LINE + (n.bar ? 14 : 0);
      placed.set(n.id, { x: 16 + c * (NODE_WIDTH + COLUMN_GAP), y, h, n });
      y += h + 16;
    }
    height = Math.max(height, y);
  });
  const width = 16 + columns.length * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 16;
  const root = svg("svg", { width, height: Math.max(height, 80), viewBox: `0 0 ${width} ${Math.max(height, 80)}`, role: "group", "aria-label": label });
  columns.forEach((column, c) => root.append(svg("text", { x: 16 + c * (NODE_WIDTH + COLUMN_GAP), y: 20, class: "head" }, column.title)));
  const edgeLayer = svg("g", { class: "edges" });
  const labelLayer = svg("g", { class: "edge-labels" });
  for (const e of edges) {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + NODE_WIDTH, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2;
    const bend = Math.max(40, (x2 - x1) / 2);
    edgeLayer.append(svg("path", { class: `edge ${e.cls || ""}`, d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` }));
    if (e.label) {
      const lx = x2 - 8, ly = y2 - 5;
      const w = e.label.length * 6.4 + 6;
      labelLayer.append(
        svg("rect", { class: "edge-label-bg", x: lx - w, y: ly - 11, width: w, height: 14 }),
        svg("text", { class: "edge-label", x: lx - 3, y: ly, "text-anchor": "end", "data-from": e.from, "data-to": e.to }, e.label),
      );
    }
  }
  root.append(edgeLayer);
  for (const { x, y, h, n } of placed.values()) root.append(drawNode(n, x, y, h));
  root.append(labelLayer);
  if (!placed.size) root.append(svg("text", { x: 16, y: TOP + 16, class: "sub" }, "Nothing here yet."));
  return root;
}

function drawNode(n, x, y, h) {
  const select = (group) => {
    for (const other of document.querySelectorAll("svg .node.selected")) other.classList.remove("selected");
    group.classList.add("selected");
    show(`${n.kind} ${n.id}`, n.value);
  };
  const group = svg("g", {
    class: "node",
    tabindex: 0,
    role: "button",
    "aria-label": `${n.kind} ${n.lines.join(", ")}`,
    "data-kind": n.kind,
    "data-id": n.id,
    onclick: () => select(group),
    onkeydown: (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        select(group);
      }
    },
  });
  group.append(svg("rect", { class: "box", x, y, width: NODE_WIDTH, height: h, rx: 6 }));
  n.lines.forEach((line, i) => group.append(svg("text", { x: x + 8, y: y + 17 + i * LINE, class: i === 0 ? "head" : "sub" }, clip(line))));
  if (n.bar) {
    const by = y + 12 + n.lines.length * LINE - 2;
    const share = n.bar.size ? Math.min(1, n.bar.used / n.bar.size) : 0;
    group.append(
      svg("rect", { class: "bar", x: x + 8, y: by, width: NODE_WIDTH - 16, height: 7 }),
      svg("rect", { class: "bar-used", x: x + 8, y: by, width: Math.max(share > 0 ? 2 : 0, (NODE_WIDTH - 16) * share), height: 7 }),
    );
  }
  return group;
}

const clip = (text) => (text.length > 32 ? `${text.slice(0, 31)}…` : text);
