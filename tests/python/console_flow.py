"""netplane's web console (`/_netplane/ui/`) driven in Debian's headless Chromium through WebDriver.

usage:
  console_flow.py <rest base URL> <tls host:port> <ca.pem> <screenshot dir> <chromium> <chromedriver>
  console_flow.py login <rest base URL> <admin IAM token> <screenshot dir> <chromium> <chromedriver>
      Against a server with principals: the console asks for a token, and with an admin's it shows
      the folder. Prints "login: ok".

State is made through the public APIs (Yandex REST, Huawei REST); then every page is opened and
checked: the topology's SVG holds each interface's address and NAT address and the Huawei rules'
addresses; resources list with the API's filter and paging and show a row's operations; a fault
added from the form makes the next call fail; a pending operation completed from the operations
page is seen by the official SDK's waiter; the journal filters by method and code and links to the
operation a call started; export, reset and import round-trip the state. On every page: a
screenshot, text contrast of at least 4.5:1, keyboard focus that moves and shows, and no console
errors. Prints "console: ok".
"""
import json
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.request

import yandexcloud
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from yandex.cloud.vpc.v1 import network_pb2
from yandex.cloud.vpc.v1 import network_service_pb2 as nsvc
from yandex.cloud.vpc.v1.network_service_pb2_grpc import NetworkServiceStub

FOLDER = "b1gconsolefolder0000"
PROJECT = "0c1e2d3f4a5b6c7d8e9f0a1b2c3d4e5f"
IMAGE = "fd85u0rct32prepgjlv0"
HUAWEI = {"x-auth-token": "console-test"}
WAIT_S = 20


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, headers=None, expect=200):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request) as answer:
                status, text = answer.status, answer.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        check(status == expect, f"{method} {path}: {status} {text[:400]!r}")
        return json.loads(text) if text else None

    def done(self, path, body):
        op = self.call("POST", path, body)
        check(op["done"] and "response" in op, f"{path} did not finish inline: {op}")
        return op["response"]


def make_state(api):
    """A folder with networks, a routed subnet and an instance with one-to-one NAT; a Huawei
    project with a VPC, a private NAT gateway, transit IPs and a DNAT and an SNAT rule."""
    net = api.done("/vpc/v1/networks", {"folderId": FOLDER, "name": "net-a"})
    for name in ("net-b", "net-c"):
        api.done("/vpc/v1/networks", {"folderId": FOLDER, "name": name})
    gateway = api.done("/vpc/v1/gateways", {"folderId": FOLDER, "name": "egress", "sharedEgressGatewaySpec": {}})
    table = api.done("/vpc/v1/routeTables", {"folderId": FOLDER, "networkId": net["id"], "name": "to-egress",
                                             "staticRoutes": [{"destinationPrefix": "0.0.0.0/0", "gatewayId": gateway["id"]}]})
    subnet = api.done("/vpc/v1/subnets", {"folderId": FOLDER, "networkId": net["id"], "name": "sub-a", "zoneId": "ru-central1-a",
                                          "v4CidrBlocks": ["10.1.0.0/24"], "routeTableId": table["id"]})
    vms = []
    for name, nat in (("vm-nat", True), ("vm-plain", False)):
        address = {"oneToOneNatSpec": {"ipVersion": "IPV4"}} if nat else {}
        vms.append(api.done("/compute/v1/instances", {
            "folderId": FOLDER, "name": name, "zoneId": "ru-central1-a", "platformId": "standard-v3",
            "resourcesSpec": {"memory": str(2**31), "cores": "2"},
            "bootDiskSpec": {"autoDelete": True, "diskSpec": {"size": str(20 * 2**30), "imageId": IMAGE}},
            "networkInterfaceSpecs": [{"subnetId": subnet["id"], "primaryV4AddressSpec": address}]}))
    nv1, nv3 = f"/v1/{PROJECT}", f"/v3/{PROJECT}/private-nat"
    vpc = api.call("POST", f"{nv1}/vpcs", {"vpc": {"name": "app-vpc", "cidr": "10.8.0.0/16"}}, HUAWEI)["vpc"]
    down = api.call("POST", f"{nv1}/subnets", {"subnet": {"name": "app", "cidr": "10.8.1.0/24", "gateway_ip": "10.8.1.1", "vpc_id": vpc["id"]}}, HUAWEI)["subnet"]
    transit_vpc = api.call("POST", f"{nv1}/vpcs", {"vpc": {"name": "transit-vpc", "cidr": "10.9.0.0/16"}}, HUAWEI)["vpc"]
    transit = api.call("POST", f"{nv1}/subnets", {"subnet": {"name": "transit", "cidr": "10.9.2.0/24", "gateway_ip": "10.9.2.1", "vpc_id": transit_vpc["id"]}}, HUAWEI)["subnet"]
    nat = api.call("POST", f"{nv3}/gateways", {"gateway": {"name": "pnat", "downlink_vpcs": [{"virsubnet_id": down["id"]}]}}, HUAWEI, 201)["gateway"]
    ts = api.call("POST", f"{nv3}/transit-subnets", {"transit_subnet": {"name": "ts", "virsubnet_id": transit["id"]}}, HUAWEI, 201)["transit_subnet"]
    tip_dnat = api.call("POST", f"{nv3}/transit-ips", {"transit_ip": {"virsubnet_id": ts["id"]}}, HUAWEI, 201)["transit_ip"]
    tip_snat = api.call("POST", f"{nv3}/transit-ips", {"transit_ip": {"virsubnet_id": ts["id"]}}, HUAWEI, 201)["transit_ip"]
    api.call("POST", f"{nv3}/dnat-rules", {"dnat_rule": {"gateway_id": nat["id"], "transit_ip_id": tip_dnat["id"], "private_ip_address": "10.8.1.5",
                                                         "protocol": "tcp", "internal_service_port": "80", "transit_service_port": "8080"}}, HUAWEI, 201)
    api.call("POST", f"{nv3}/snat-rules", {"snat_rule": {"gateway_id": nat["id"], "transit_ip_ids": [tip_snat["id"]], "virsubnet_id": down["id"]}}, HUAWEI, 201)
    return {"vms": vms, "huawei_addresses": ["10.8.1.5", tip_dnat["ip_address"], tip_snat["ip_address"], nat["downlink_vpcs"][0]["ngport_ip_address"]]}


def browser(chromium, chromedriver, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # As the machine's notes say: without the background-networking flags Chromium reaches for
    # Google's hosts, which a closed network refuses.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1800,1000", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


# The contrast ratio (WCAG 2) of each visible text's colour on the first opaque background behind
# it; SVG text on its page's background. Answers the elements below `minimum`.
CONTRAST = """
const minimum = arguments[0];
const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const background = (el) => { for (let n = el; n && n.nodeType === 1; n = n.parentElement) { if (n instanceof SVGElement && n.tagName !== 'svg') continue; const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.closest('[hidden]') || el.tagName === 'OPTION' || el.tagName === 'SCRIPT') continue;
  const box = el.getBoundingClientRect(); if (!box.width || !box.height) continue;
  const style = getComputedStyle(el); if (style.visibility === 'hidden' || style.display === 'none') continue;
  const fg = parse(el instanceof SVGElement ? style.fill : style.color); if (!fg) continue;
  const bg = background(el instanceof SVGElement ? el.closest('svg').parentElement : el);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  if (ratio < minimum) bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
}
return bad;
"""


# Whether the focused element shows it: an outline, or for a drawing's element its box's thick
# stroke.
FOCUS_SHOWN = """
const el = arguments[0];
if (el instanceof SVGElement) { const box = el.querySelector('rect.box'); return !!box && parseFloat(getComputedStyle(box).strokeWidth) >= 3; }
const s = getComputedStyle(el);
return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
"""


class Console:
    def __init__(self, driver, base, shots):
        self.d, self.base, self.shots = driver, base, shots

    def wait(self, condition, what):
        try:
            # Pages redraw their tables: an element read while it is replaced is read again.
            wait = WebDriverWait(self.d, WAIT_S, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,))
            return wait.until(lambda d: condition())
        except TimeoutException:
            # Enough of the page for every row of its table: one row too many or too few shows which.
            raise AssertionError(f"waited {WAIT_S}s for {what}; page: {self.d.find_element(By.TAG_NAME, 'main').text[:4000]}")

    def open(self, page):
        self.d.get(f"{self.base}/_netplane/ui/#/{page}")
        name = page.split("?")[0]
        self.wait(lambda: self.d.find_elements(By.CSS_SELECTOR, f'nav a[data-page="{name}"][aria-current="page"]'), f"{name} to be current")

    def css(self, selector):
        return self.d.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector):
        found = self.wait(lambda: self.css(selector), selector)
        return found[0]

    def click(self, selector, text=None):
        """Clicks the first element matching (with `text`, if given), found again if the page
        redrew it meanwhile."""
        def clicked():
            found = [e for e in self.css(selector) if text is None or e.text == text]
            if not found:
                return False
            found[0].click()
            return True
        self.wait(clicked, f"{selector} to click")

    def detail(self):
        return self.d.find_element(By.ID, "detail").text

    def status(self):
        return self.d.find_element(By.ID, "status").text

    def every_page_check(self, name):
        """Screenshot, contrast, keyboard focus, no console errors."""
        self.d.save_screenshot(os.path.join(self.shots, f"{name}.png"))
        low = self.d.execute_script(CONTRAST, 4.5)
        check(not low, f"{name}: text under 4.5:1 contrast: {low[:5]}")
        body = self.d.find_element(By.TAG_NAME, "body")
        body.click()
        seen = []
        for _ in range(4):
            self.d.switch_to.active_element.send_keys(Keys.TAB)
            focused = self.d.switch_to.active_element
            outline = self.d.execute_script(FOCUS_SHOWN, focused)
            check(outline, f"{name}: the focused {focused.tag_name} shows no focus outline")
            seen.append(focused.id or focused.text or focused.tag_name)
        check(len(set(seen)) == 4, f"{name}: Tab did not move focus through four elements: {seen}")
        errors = [e for e in self.d.get_log("browser") if e["level"] == "SEVERE"]
        check(not errors, f"{name}: console errors: {errors}")


def wait_with_sdk(endpoint, ca, ops):
    """The official SDK creates a network that a `stall` rule holds pending, and waits for it."""
    try:
        with open(ca, "rb") as f:
            sdk = yandexcloud.SDK(iam_token="dev", endpoint=endpoint, root_certificates=f.read())
        op = sdk.client(NetworkServiceStub).Create(nsvc.CreateNetworkRequest(folder_id=FOLDER, name="stalled"))
        ops.put(("created", op.id, op.done))
        result = sdk.wait_operation_and_get_result(op, response_type=network_pb2.Network, meta_type=nsvc.CreateNetworkMetadata, timeout=60)
        ops.put(("waited", result.response.name, None))
    except Exception as e:  # the main thread reports it
        ops.put(("failed", repr(e), None))


def main(rest, tls, ca, shots, chromium, chromedriver):
    os.makedirs(shots, exist_ok=True)
    downloads = os.path.join(shots, "downloads")
    os.makedirs(downloads, exist_ok=True)
    api = Api(rest)
    made = make_state(api)
    driver = browser(chromium, chromedriver, downloads)
    ui = Console(driver, rest, shots)
    try:
        run(ui, api, made, tls, ca, downloads)
    finally:
        driver.quit()
    print("console: ok")


def run(ui, api, made, tls, ca, downloads):
    d = ui.d
    # Topology of the folder: every interface's address, and the NAT address, on the SVG.
    ui.open(f"topology?scope=yandex:{FOLDER}")
    ui.one('svg .node[data-kind="interface"]')
    svg_text = ui.one("#topology svg").text
    for vm in made["vms"]:
        v4 = vm["networkInterfaces"][0]["primaryV4Address"]
        check(v4["address"] in svg_text, f"interface address {v4['address']} not drawn: {svg_text}")
        if "oneToOneNat" in v4:
            check(v4["oneToOneNat"]["address"] in svg_text, f"NAT address {v4['oneToOneNat']['address']} not drawn")
    for kind in ("network", "subnet", "route-table", "gateway"):
        check(ui.css(f'svg .node[data-kind="{kind}"]'), f"no {kind} drawn")
    check(ui.css("svg rect.bar-used"), "the subnet's address use is not drawn")
    check("2 of 256 addresses used" in svg_text, f"the subnet's use: {svg_text}")
    # Keyboard: Tab reaches the drawing's elements, Enter shows the resource.
    node = ui.css('svg .node[data-kind="interface"]')[0]
    node.send_keys(Keys.ENTER)
    ui.wait(lambda: '"networkInterfaces"' in ui.detail(), "the interface's instance in the detail panel")
    check("Topology" in d.title and "3 networks" in d.title and "2 instances" in d.title, f"title: {d.title}")
    ui.every_page_check("topology")

    # Topology of the Huawei project, chosen in the page.
    Select(ui.one("#scope")).select_by_value(f"huawei:{PROJECT}")
    ui.one('svg .node[data-kind="dnat-rule"]')
    svg_text = ui.one("#topology svg").text
    for address in made["huawei_addresses"]:
        check(address in svg_text, f"Huawei address {address} not drawn: {svg_text}")
    for kind in ("vpc", "huawei-subnet", "nat-gateway", "snat-rule", "transit-ip", "transit-subnet"):
        check(ui.css(f'svg .node[data-kind="{kind}"]'), f"no {kind} drawn")
    ui.css('svg .node[data-kind="nat-gateway"]')[0].click()
    ui.wait(lambda: '"downlink_vpcs"' in ui.detail(), "the gateway in the detail panel")
    ui.every_page_check("topology-huawei")

    # Resources: the API's filter and paging, and a row's operations.
    ui.open(f"resources?scope=yandex:{FOLDER}&kind=networks")
    ui.one("#resource-table tbody tr")
    filter_box = ui.one("#filter")
    filter_box.send_keys('name="net-b"')
    ui.one("#apply").click()
    ui.wait(lambda: [r.text for r in ui.css("#resource-table tbody tr td:nth-child(2)")] == ["net-b"], "the filter to keep net-b")
    filter_box.clear()
    size = ui.one("#page-size")
    size.clear()
    size.send_keys("2")
    ui.one("#apply").click()
    ui.wait(lambda: len(ui.css("#resource-table tbody tr")) == 2 and ui.one("#next-page").is_enabled(), "a first page of two")
    first = [r.text for r in ui.css("#resource-table tbody tr td:nth-child(2)")]
    ui.one("#next-page").click()
    ui.wait(lambda: len(ui.css("#resource-table tbody tr")) == 1, "the second page")
    last = ui.css("#resource-table tbody tr td:nth-child(2)")[0].text
    check(sorted(first + [last]) == ["net-a", "net-b", "net-c"], f"pages: {first} then {last}")
    check(not ui.one("#next-page").is_enabled(), "a next page after the last")
    ui.click("#resource-table tbody tr td:last-child button")
    ui.wait(lambda: "Create network" in ui.detail(), "the row's operations")
    Select(ui.one("#kind")).select_by_value("instances")
    ui.wait(lambda: any("NAT " in r.text for r in ui.css("#resource-table tbody tr")), "instances with their NAT addresses")
    ui.every_page_check("resources")

    # Faults: a rule added from the form makes the next call fail.
    ui.open("faults")
    ui.one("#fault-method").send_keys("yandex.cloud.vpc.v1.NetworkService/Create")
    ui.one("#fault-match").send_keys('{"name": "from-form"}')
    ui.one("#fault-times").send_keys("1")
    Select(ui.one("#fault-action")).select_by_value("error")
    Select(ui.one("#fault-code")).select_by_value("RESOURCE_EXHAUSTED")
    message = ui.one("#fault-message")
    message.clear()
    message.send_keys("refused by the console's rule")
    ui.one("#fault-add").click()
    ui.one("#fault-rules tbody tr")
    refused = api.call("POST", "/vpc/v1/networks", {"folderId": FOLDER, "name": "from-form"}, expect=429)
    check(refused["message"] == "refused by the console's rule", f"the fault answered {refused}")
    check(not api.call("GET", f"/vpc/v1/networks?folderId={FOLDER}&filter=name%3D%22from-form%22").get("networks"), "a refused call made a network")
    d.refresh()
    ui.wait(lambda: [c.text for c in ui.css("#fault-rules tbody tr td:nth-child(7)")] == ["1"], "the rule's applied count")
    ui.click("#fault-rules tbody tr button.remove")
    ui.wait(lambda: ui.css("#fault-rules .empty"), "the rule removed")
    # A stall rule, for the operations page.
    ui.one("#fault-method").send_keys("yandex.cloud.vpc.v1.NetworkService/Create")
    ui.one("#fault-match").send_keys('{"name": "stalled"}')
    Select(ui.one("#fault-action")).select_by_value("stall")
    ui.one("#fault-add").click()
    ui.one("#fault-rules tbody tr")
    ui.every_page_check("faults")

    # Operations: the SDK waits on a stalled create; the page completes it.
    events = queue.Queue()
    waiter = threading.Thread(target=wait_with_sdk, args=(tls, ca, events), daemon=True)
    waiter.start()
    kind, op_id, done = events.get(timeout=WAIT_S)
    check(kind == "created" and not done, f"the SDK's create: {kind} {op_id} {done}")
    ui.open("operations")
    row = f'#pending-operations tr[data-id="{op_id}"]'
    ui.one(row)
    ui.every_page_check("operations")
    ui.click(f"{row} button.complete")
    kind, name, _ = events.get(timeout=60)
    check((kind, name) == ("waited", "stalled"), f"the SDK's waiter: {kind} {name}")
    ui.wait(lambda: not ui.css(row) and ui.css(f'#latest-operations tr[data-id="{op_id}"]'), "the operation done on the page")
    waiter.join(timeout=WAIT_S)

    # Calls: filtered by method and code; a call links to its operation.
    ui.open("calls")
    ui.one("#call-rows tr[data-request-id]")
    ui.one("#call-code").send_keys("RESOURCE_EXHAUSTED")
    ui.one("#call-apply").click()
    ui.wait(lambda: len(ui.css("#call-rows tr[data-request-id]")) == 1, "the one refused call")
    check("NetworkService/Create" in ui.one("#call-rows tr").text, ui.one("#call-rows tr").text)
    ui.one("#call-code").clear()
    ui.one("#call-method").send_keys("yandex.cloud.vpc.v1.NetworkService/Create")
    ui.one("#call-apply").click()
    ui.wait(lambda: len(ui.css("#call-rows tr[data-request-id]")) == 5, "the five network creates (three, the refused one, the stalled one)")
    ui.every_page_check("calls")
    ui.click("#call-rows a.operation-link", text=op_id)
    ui.one(f'#latest-operations tr.selected[data-id="{op_id}"]')

    # State: export, reset, import round-trip.
    ui.open("faults")
    ui.one("#fault-remove-all").click()
    ui.wait(lambda: ui.css("#fault-rules .empty"), "the rules removed")
    ui.one("#export").click()
    exported = os.path.join(downloads, "netplane-state.json")
    ui.wait(lambda: os.path.exists(exported) and os.path.getsize(exported) > 0, "the exported file")
    reset = ui.one("#reset")
    reset.click()
    check("Press again" in reset.text, "a reset asks for a second press")
    reset.click()
    ui.wait(lambda: ui.status().startswith("reset: removed"), "the reset")
    check(not api.call("GET", f"/vpc/v1/networks?folderId={FOLDER}").get("networks"), "the reset left networks")
    ui.one("#import-file").send_keys(exported)
    ui.one("#import").click()
    ui.wait(lambda: ui.status().startswith("imported"), "the import")
    names = sorted(n["name"] for n in api.call("GET", f"/vpc/v1/networks?folderId={FOLDER}")["networks"])
    check(names == ["net-a", "net-b", "net-c", "stalled"], f"after the import: {names}")
    ui.every_page_check("faults-state")


def login(rest, token, shots, chromium, chromedriver):
    os.makedirs(shots, exist_ok=True)
    api = Api(rest)
    api.call("POST", "/vpc/v1/networks", {"folderId": FOLDER, "name": "behind-login"}, {"authorization": f"Bearer {token}"})
    driver = browser(chromium, chromedriver, shots)
    ui = Console(driver, rest, shots)
    try:
        ui.open("topology")
        form = ui.one("#login")
        ui.wait(lambda: form.is_displayed(), "the token form")
        check(driver.switch_to.active_element.get_attribute("id") == "login-iam", "the token field has the focus")
        driver.switch_to.active_element.send_keys(token, Keys.ENTER)
        ui.wait(lambda: not form.is_displayed(), "the form to go")
        ui.one('svg .node[data-kind="network"]')
        check("behind-login" in ui.one("#topology svg").text, "the folder is drawn after the login")
        # The 401 answers before the token was given are the only console errors.
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "401" not in e["message"]]
        check(not errors, f"console errors: {errors}")
    finally:
        driver.quit()
    print("login: ok")


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "login":
        login(*sys.argv[2:7])
    elif len(sys.argv) == 7:
        main(*sys.argv[1:7])
    else:
        raise SystemExit(__doc__)
