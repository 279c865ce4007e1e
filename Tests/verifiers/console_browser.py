#!/usr/bin/env python3
"""Drives the hub console in Debian's headless Chromium as a real person would, signed in with a federation client
certificate (imported into the browser's NSS database with pk12util and chosen by Chromium's
AutoSelectCertificateForUrls policy, which the calling test writes).

usage: console_browser.py JOURNEY --hub URL --home DIR --shots DIR [--lang zh|en] [key=value ...]

Journeys: clearing (approve a batch and record its payment references), regulator (look a document up and find the
query among my past queries), operator-token (make an enrollment token), operator-revoke (revoke park=P…),
forbidden (open path=… and expect a 403 page), node-manager (switch the gate mode, keyboard=yes by keyboard alone),
node-window (sell and read the ticket's QR), tablet (paths=a,b,… at tablet and phone sizes). Prints one JSON object; exits 1 when the page is not what it should be.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def browser(home, lang, scale="1"):
    options = webdriver.ChromeOptions()
    # A phone's screen has two or three device pixels to the CSS pixel.
    options.add_argument(f"--force-device-scale-factor={scale}")
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400",
                     f"--user-data-dir={home}/profile", f"--lang={'zh-CN' if lang == 'zh' else 'en-US'}"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh" if lang == "zh" else "en-US,en"})
    # Chromium reads the client certificate (and the federation root it trusts) from $HOME/.pki/nssdb.
    env = dict(os.environ, HOME=home)
    service = Service("/usr/bin/chromedriver", env=env)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    return driver


class Journey:
    def __init__(self, driver, hub, shots, name):
        self.driver, self.hub, self.shots, self.name = driver, hub, shots, name
        self.count = 0
        self.pages = []

    def open(self, path):
        self.driver.get(self.hub + path)
        self.shot()

    def shot(self):
        self.count += 1
        path = os.path.join(self.shots, f"{self.name}-{self.count:02d}.png")
        self.driver.save_screenshot(path)
        self.pages.append({"url": self.driver.current_url, "title": self.driver.title, "screenshot": path})

    def find(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def click(self, selector):
        self.find(selector).click()
        time.sleep(0.05)
        self.shot()

    def text(self, selector):
        return self.find(selector).text

    def tab_to(self, element_id, limit=80):
        """Moves the keyboard focus with Tab alone until it reaches the element; it must show a visible focus ring."""
        for _ in range(limit):
            active = self.driver.switch_to.active_element
            if active.get_attribute("id") == element_id:
                outline = self.driver.execute_script(
                    "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth;")
                self.expect(not outline.startswith("none") and not outline.endswith(" 0px"), f"#{element_id} shows where the focus is ({outline})")
                return active
            active.send_keys(Keys.TAB)
        self.expect(False, f"#{element_id} is reachable with the Tab key")

    def press(self, element_id, key=Keys.ENTER):
        self.tab_to(element_id).send_keys(key)
        time.sleep(0.05)
        self.shot()

    def expect(self, condition, message):
        if not condition:
            raise SystemExit(json.dumps({"ok": False, "error": message, "url": self.driver.current_url,
                                         "body": self.driver.find_element(By.TAG_NAME, "body").text[:2000], "pages": self.pages}))


def wait_for(j, selector, seconds=10):
    """Waits until the page after a form's submission shows `selector` (the click returns before the next page)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if j.driver.find_elements(By.CSS_SELECTOR, selector):
            return True
        time.sleep(0.1)
    return False


def clearing(j, args):
    j.open("/console")
    j.expect("/console/settlement" in j.driver.current_url, "the console sends clearing staff to the settlement calendar")
    j.expect(j.find("#principal").text == args["principal"], "the page names the signed-in principal")
    batch = args["batch"]
    j.click(f"a[href='/console/settlement/{batch}']")
    j.expect(j.text("#batch-id") == batch, "the batch page opens")
    j.expect(j.find("#positions") is not None and "svg" in j.driver.page_source, "positions and their chart are shown")
    j.click("#approve")
    j.expect(batch in j.text("#confirm-text"), "approval asks for confirmation")
    j.click("#confirm")
    state_after_approve = j.find("#batch-state").get_attribute("class")
    j.expect("state-approved" in state_after_approve, "the batch is approved")
    references = {}
    for field in j.driver.find_elements(By.CSS_SELECTOR, "#payments input[name^='ref-']"):
        park = field.get_attribute("name")[4:]
        references[park] = f"BANK-{batch}-{park}"
        field.clear()
        field.send_keys(references[park])
    j.shot()
    j.click("#record-payments")
    j.expect("state-paid" in j.find("#batch-state").get_attribute("class"), "the batch is paid once every party has a reference")
    j.click(f"#positions a")
    links = j.driver.find_elements(By.CSS_SELECTOR, "#obligations a")
    j.expect(len(links) > 0, "a park's obligations name their assertions")
    links[0].click()
    j.shot()
    j.expect("state-paid" in j.find("#inclusion span").get_attribute("class"), "the obligation's assertion is proven in the log")
    # The exceptions the bank statement left: resolve the open one with a reason.
    j.click("nav a[href='/console/settlement/exceptions']")
    open_rows = j.driver.find_elements(By.CSS_SELECTOR, "#exceptions tr[data-state='open']")
    j.expect(len(open_rows) == 1, "the stray transfer waits as an open exception")
    open_rows[0].find_element(By.CSS_SELECTOR, "input[name='reason']").send_keys("returned to the sender's bank")
    j.shot()
    open_rows[0].find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    j.expect(wait_for(j, "#exceptions tr[data-state='resolved']"), "the exception is resolved")
    # The park's dispute: accept it with a reason; the page says where the adjustment goes.
    j.click("nav a[href='/console/settlement/disputes']")
    rows = j.driver.find_elements(By.CSS_SELECTOR, "#disputes tr[data-state='open']")
    j.expect(len(rows) == 1, "the park's dispute waits for a decision")
    decision_reason = "the gate log shows no entry"
    rows[0].find_element(By.CSS_SELECTOR, "input[name='reason']").send_keys(decision_reason)
    rows[0].find_element(By.CSS_SELECTOR, "button[value='accept']").click()
    wait_for(j, "#disputes tr[data-state='accepted']")
    accepted = j.driver.find_elements(By.CSS_SELECTOR, "#disputes tr[data-state='accepted']")
    j.expect(len(accepted) == 1 and decision_reason in accepted[0].text, "the dispute is accepted, its reason shown")
    j.shot()
    # The calendar shows the day's state and its payment day.
    j.click("nav a[href='/console/settlement']")
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#calendar tr[data-state]")) > 0, "the calendar shows each day's state")
    return {"references": references, "lang": j.driver.find_element(By.TAG_NAME, "html").get_attribute("lang"), "decision_reason": decision_reason}


def regulator(j, args):
    j.open("/console")
    j.expect("/console/regulator" in j.driver.current_url, "the console sends regulators to the lookup")
    j.find("#id-type").send_keys(args.get("id_type_label", "Resident identity card"))
    j.find("#id-number").send_keys(args["id_number"])
    j.shot()
    j.click("#search")
    index = j.text("#log-index")
    j.expect(index.isdigit(), "the result names the query's log index")
    purchases = len(j.driver.find_elements(By.CSS_SELECTOR, "#purchases tbody tr"))
    entries = len(j.driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr"))
    j.expect(args["id_number"] not in j.driver.page_source, "the document number is never shown in full")
    j.open("/console/regulator")
    rows = [row.text for row in j.driver.find_elements(By.CSS_SELECTOR, "#queries tbody tr")]
    j.expect(any(index in row for row in rows), "the query is among my past queries with its log index")
    j.click("#traffic")
    j.expect("svg" in j.driver.page_source, "traffic is drawn per hour")
    # People inside now: a row and a chart per park, against the instantaneous capacity; the page refreshes itself.
    j.open("/console/regulator/occupancy")
    parks = [row.get_attribute("data-park") for row in j.driver.find_elements(By.CSS_SELECTOR, "#occupancy tbody tr")]
    j.expect(len(parks) > 0 and len(j.driver.find_elements(By.CSS_SELECTOR, "figure svg")) == len(parks), "each park has its row and its chart")
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "meta[http-equiv='refresh']")) == 1, "the page refreshes itself")
    j.shot()
    # Warnings: the levels table and the pushes to the regulator's endpoint.
    j.open("/console/regulator/warnings")
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#pushes")) == 1, "the pushes are listed")
    # A report of the closed day, from the form, with its CSV.
    j.open("/console/regulator/reports")
    for field, value in (("#from", args["day"]), ("#to", args["day"])):
        element = j.find(field)
        j.driver.execute_script("arguments[0].value = arguments[1]", element, value)
    j.click("#show-report")
    rows = [row.text for row in j.driver.find_elements(By.CSS_SELECTOR, "#report-rows tbody tr")]
    j.expect(len(rows) > 0, "the report has a row per park and day")
    j.expect("format=csv" in j.find("#report-csv").get_attribute("href"), "the report downloads as CSV")
    j.shot()
    return {"log_index": int(index), "purchases": purchases, "entries": entries, "report_rows": len(rows), "occupancy_parks": len(parks)}


def shop_signup(j, args):
    """A visitor on a phone: asks for a code, reads it from the mailbox the test's SMTP server keeps, accepts the terms
    and the privacy policy, creates the account, adds a holder and sees them masked."""
    j.open("/shop/account/sign-up")
    j.find("#contact").send_keys(args["email"])
    j.click("#send-code")
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#verify-form")) == 1, "the page asks for the code")
    code = None
    for _ in range(100):
        if os.path.exists(args["mailbox"]):
            with open(args["mailbox"]) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            if lines:
                code = next(word for word in lines[-1]["body"].replace("，", " ").split() if len(word) >= 6 and word[:6].isdigit())[:6]
                break
        time.sleep(0.1)
    j.expect(code is not None, "the code reached the mailbox")
    j.find("#code").send_keys(code)
    j.find("#password").send_keys("west lake 2026")
    j.find("#terms").click()
    j.find("#privacy").click()
    j.shot()
    j.click("#create-account")
    j.expect(j.driver.current_url.split("?")[0].endswith("/shop/account"), "the new account's page opens")
    contact = j.text("#contact")
    j.find("#holder-name").send_keys(args["holder_name"])
    j.find("#holder-number").send_keys(args["holder_number"])
    j.click("#add-holder")
    holders = [row.text for row in j.driver.find_elements(By.CSS_SELECTOR, "#holders tbody tr")]
    j.expect(args["holder_number"] not in j.driver.page_source, "the document is shown masked only")
    width = j.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    j.expect(width[0] <= width[1], f"no sideways scroll on a phone ({width})")
    return {"contact": contact, "holders": holders, "lang": j.driver.find_element(By.TAG_NAME, "html").get_attribute("lang")}


def shop_book(j, args):
    """The signed-up visitor on a phone adds a family member, books a timed ticket for each of them (the slot open
    now), reads the rules, pays with the test provider, and opens the first e-ticket (its QR kept as a PNG)."""
    j.driver.set_window_size(390, 844)
    j.open("/shop/account")
    j.find("#holder-name").send_keys(args["holder_name"])
    j.find("#holder-number").send_keys(args["holder_number"])
    j.click("#add-holder")
    j.open(f"/shop/products/{args['product']}")
    slots = j.driver.find_elements(By.CSS_SELECTOR, "input[name=availability]")
    j.expect(len(slots) >= 1, "a slot can be chosen")
    slots[0].click()
    holders = j.driver.find_elements(By.CSS_SELECTOR, "input[name=holder]")
    j.expect(len(holders) == 2, f"both holders can be chosen ({len(holders)})")
    for holder in holders:
        holder.click()
    j.click("#book")
    j.expect(wait_for(j, "#pay-test"), "the order page offers payment")
    rules = [item.text for item in j.driver.find_elements(By.CSS_SELECTOR, "#rules li")]
    j.expect(len(rules) >= 4, "the rules are shown before payment")
    order = j.driver.current_url.split("?")[0]
    j.click("#pay-test")
    j.expect(wait_for(j, "a.ticket"), "the paid order shows its e-tickets")
    tickets = [{"link": a.get_attribute("href")} for a in j.driver.find_elements(By.CSS_SELECTOR, "a.ticket")]
    passes = [b.get_attribute("data-pass") for b in j.driver.find_elements(By.CSS_SELECTOR, "button.refund-request")]
    j.open(tickets[0]["link"].replace(j.hub, ""))
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#qr svg")) == 1, "the e-ticket shows its QR code")
    qr = os.path.join(j.shots, f"{j.name}-qr.png")
    j.find("#qr").screenshot(qr)
    wide = j.driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    j.expect(wide <= 1, f"the e-ticket does not scroll sideways on a phone (by {wide} px)")
    return {"order": order.replace(j.hub, ""), "tickets": tickets, "passes": passes, "rules": rules, "qr": qr}


def shop_refund(j, args):
    """The visitor opens the order and (unless view=yes) asks for the refund of one ticket; answers what the page
    says of that ticket's refund."""
    j.driver.set_window_size(390, 844)
    j.open(args["order"])
    if args.get("view") != "yes":
        j.click(f"button.refund-request[data-pass='{args['pass']}']")
        j.expect(wait_for(j, f".refund[data-pass='{args['pass']}']"), "the refund request is shown on the order")
    return {"refund": j.text(f".refund[data-pass='{args['pass']}']"), "requestable": len(j.driver.find_elements(By.CSS_SELECTOR, "button.refund-request"))}


def operator_token(j, args):
    j.open("/console")
    j.expect("/console/operator" in j.driver.current_url, "the console sends the operator to the federation page")
    j.find("#token-park").send_keys(args["park"])
    j.find("#token-name").send_keys(args["name"])
    j.click("#make-token")
    token = j.text("#token")
    j.expect(token.startswith("pfe_"), "the token is shown once")
    j.open("/console/operator")
    j.expect(token not in j.driver.page_source, "the token is not shown again")
    return {"token": token}


def operator_revoke(j, args):
    park = args["park"]
    j.open("/console/operator")
    j.click(f"#revoke-{park}")
    j.expect(park in j.text("#confirm-text"), "revocation asks for confirmation")
    j.click("#confirm")
    row = j.find(f"#parks tr[data-park='{park}']").text
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, f"#revoke-{park}")) == 0, "a revoked park can no longer be revoked")
    return {"row": row}


def forbidden(j, args):
    j.open(args["path"])
    j.expect(j.text("#error-title").startswith("403"), "the page is a 403 page")
    return {"code": j.text("#error-code"), "detail": j.text("#error-detail")}


def sign_in(j, credential):
    j.open("/console/sign-in")
    j.find("#credential").send_keys(credential)
    j.click("#submit")


def node_manager(j, args):
    sign_in(j, args["credential"])
    j.expect("/console/manager" in j.driver.current_url, "an operator device lands on the duty manager's page")
    mode = args["mode"]
    if args.get("keyboard") == "yes":
        # The whole switch by keyboard alone: Tab to the button, Enter; Tab to the reason, type; Tab to confirm, Enter.
        j.press(f"mode-{mode}")
        j.expect(f"mode={mode}" in j.driver.current_url, "a mode switch asks for confirmation first")
        j.tab_to("reason").send_keys(args["reason"])
        j.press("confirm")
    else:
        j.click(f"#mode-{mode}")
        j.expect(f"mode={mode}" in j.driver.current_url, "a mode switch asks for confirmation first")
        j.find("#reason").send_keys(args["reason"])
        j.click("#confirm")
    shown = j.text("#mode")
    j.click("#sign-out")
    j.expect("/console/sign-in" in j.driver.current_url, "signing out ends the session")
    j.open("/console/manager")
    j.expect(j.text("#error-title").startswith("401"), "after sign-out the session no longer works")
    return {"mode": shown}


def node_window(j, args):
    sign_in(j, args["credential"])
    j.expect("/console/window" in j.driver.current_url, "a window device lands on the ticket window")
    j.find("#holder-name").send_keys(args["holder"])
    j.find("#id-number").send_keys(args["id_number"])
    j.shot()
    j.click("#sell")
    j.expect("/console/window/passes/" in j.driver.current_url, "the sale shows the ticket")
    qr = os.path.join(j.shots, f"{j.name}-qr.png")
    j.find("#qr").screenshot(qr)
    return {"pass": j.text("#pass-id"), "qr": qr, "holder": j.text("#holder")}


def tablet(j, args):
    """Each page at a tablet's size (820 x 1180 CSS pixels, portrait) and a phone's (390 x 844): nothing makes the page
    itself scroll sideways (wide tables scroll inside themselves), and every button is big enough to touch."""
    if "credential" in args:
        sign_in(j, args["credential"])
    checked = []
    for width, height in [(820, 1180), (390, 844)]:
        j.driver.set_window_size(width, height)
        for path in args["paths"].split(","):
            j.open(path)
            j.expect(j.driver.execute_script("return document.readyState") == "complete", f"{path} loads")
            title = j.driver.find_elements(By.CSS_SELECTOR, "#error-title")
            j.expect(not title, f"{path} is a page of this role, not an error ({title[0].text if title else ''})")
            wide = j.driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            j.expect(wide <= 1, f"{path} at {width} px does not scroll sideways (by {wide} px)")
            small = j.driver.execute_script(
                "return [...document.querySelectorAll('button, a.button')].filter(b => b.offsetParent && b.getBoundingClientRect().height < 32).length;")
            j.expect(small == 0, f"{path} at {width} px has {small} buttons too small to touch")
            checked.append({"path": path, "width": width})
    return {"checked": checked}


def visitor(j, args):
    """A visitor's phone (390 x 844) opens the pass page of a link: the QR is there, nothing scrolls sideways; an old
    link (after a transfer) says so and shows no code."""
    j.driver.set_window_size(390, 844)
    j.open(args["path"])
    j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#qr svg")) == 1, "the pass page shows the QR code")
    wide = j.driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    j.expect(wide <= 1, f"the pass page does not scroll sideways on a phone (by {wide} px)")
    qr = os.path.join(j.shots, f"{j.name}-qr.png")
    j.find("#qr").screenshot(qr)
    result = {"qr": qr, "state": j.find("#pass-state").text, "parks": len(j.driver.find_elements(By.CSS_SELECTOR, "#parks tbody tr"))}
    if "old" in args:
        j.open(args["old"])
        j.expect(not j.driver.find_elements(By.CSS_SELECTOR, "#qr"), "an old link shows no code")
        j.expect(len(j.driver.find_elements(By.CSS_SELECTOR, "#no-code")) == 1, "an old link says why it shows no code")
        result["old_state"] = j.find("#pass-state").text
    return result


JOURNEYS = {"visitor": visitor, "tablet": tablet, "node-manager": node_manager, "node-window": node_window, "clearing": clearing, "regulator": regulator, "operator-token": operator_token, "shop-signup": shop_signup, "shop-book": shop_book, "shop-refund": shop_refund, "operator-revoke": operator_revoke,
            "forbidden": forbidden}


def main():
    journey = sys.argv[1]
    options, args = {}, {}
    rest = sys.argv[2:]
    while rest:
        item = rest.pop(0)
        if item.startswith("--"):
            options[item[2:]] = rest.pop(0)
        else:
            key, _, value = item.partition("=")
            args[key] = value
    os.makedirs(options["shots"], exist_ok=True)
    driver = browser(options["home"], options.get("lang", "en"), "2" if journey == "visitor" else "1")
    try:
        j = Journey(driver, options["hub"], options["shots"], options.get("name", journey))
        result = JOURNEYS[journey](j, args)
        print(json.dumps({"ok": True, **result, "pages": j.pages}))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
