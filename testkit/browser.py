"""A resident's visit to the page (issue 22) in Debian's Chromium, driven by Selenium through chromedriver:
consent, the commune typed without diacritics (or found from the browser's location), the access and ISP,
a whole test, and what the page shows once done.

Run as a module (``python -m testkit.browser URL WIDTH SHOTS``) it prints the visit as JSON: the form a
test takes to run the browser inside a lab namespace, whose default route carries the test.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

TYPED = "quang xuong"  # as a resident types it on a phone without Vietnamese input
# #result's data-* once done (issue 22); the test's length, bytes and streams down/up (issue 39)
HOOKS = ("download-mbps", "upload-mbps", "latency-ms", "result-id", "seconds", "bytes", "streams")


def fold(text: str) -> str:
    """``text`` without its diacritics, as the resident typed it."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).replace("đ", "d")


def browser(width: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},900"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))


def resident_test(
    url: str, width: int, shots: Path, point: tuple[float, float] | None = None, access: str = "fixed",
    connection: str | None = None,
) -> dict[str, str]:  # fmt: skip
    """A resident's whole visit, as a browser makes it (the commune typed, or found from the browser's
    ``point``; ``connection``: the Network Information API's type the browser reports); the result's state and
    what the page shows. Screenshots before, during and after in ``shots``."""
    driver = browser(width)
    try:
        if connection is not None:  # desktop Chromium has no navigator.connection.type (Android's has): given here
            script = (
                f"Object.defineProperty(NetworkInformation.prototype, 'type', {{get: () => {json.dumps(connection)}}});"
            )
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})
        if point is not None:  # the browser's location, and the resident's yes to sharing it
            origin = url.split("/do/")[0]
            driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]})
            driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                   {"latitude": point[0], "longitude": point[1], "accuracy": 20})  # fmt: skip
        driver.get(url)
        wait = WebDriverWait(driver, 30)
        driver.save_screenshot(str(shots / f"consent-{width}.png"))
        driver.find_element(By.ID, "consent-accept").click()
        if point is None:
            driver.find_element(By.ID, "commune").send_keys(TYPED)
            option = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#commune-list [role=option]"))
            named = option.text
            option.click()
        else:
            driver.find_element(By.ID, "locate").click()
            wait.until(lambda b: b.find_element(By.ID, "commune").get_attribute("value"))
            named = str(driver.find_element(By.ID, "commune").get_attribute("value"))
            driver.save_screenshot(str(shots / f"located-{width}.png"))
        Select(driver.find_element(By.ID, "access")).select_by_value(access)
        Select(driver.find_element(By.ID, "isp")).select_by_value("VNPT")
        driver.find_element(By.ID, "start").click()
        WebDriverWait(driver, 60).until(  # a live speed shows (or a test on a small budget is over before it could)
            lambda b: (
                b.find_element(By.ID, "live").text
                or b.find_element(By.ID, "result").get_attribute("data-state") in ("done", "error")
            )
        )
        driver.save_screenshot(str(shots / f"during-{width}.png"))
        result = WebDriverWait(driver, 180).until(
            lambda b: (r := b.find_element(By.ID, "result")).get_attribute("data-state") in ("done", "error") and r
        )
        driver.execute_script("arguments[0].scrollIntoView()", result)
        driver.save_screenshot(str(shots / f"result-{width}.png"))
        return {"state": str(result.get_attribute("data-state")), "error": str(result.get_attribute("data-error")),
                "named": named, "shown": driver.find_element(By.ID, "figures").text,
                "median": driver.find_element(By.ID, "median").text,
                "verdict": driver.find_element(By.ID, "verdict").text,
                "good_for": driver.find_element(By.ID, "good-for").text,
                "hooks": json.dumps({k: result.get_attribute(f"data-{k}") for k in HOOKS}),
                "lang": str(driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))}  # fmt: skip
    finally:
        driver.quit()


# WCAG 2.x contrast of every visible element's own text against the background it is drawn on (the
# nearest ancestor's that is not transparent): 4.5 for body text, 3 for large (24 px, or 18.66 px bold).
_CONTRAST = """
const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
const luminance = (c) => c.slice(0, 3).map(linear).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
const backdrop = (el) => {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c;
  }
  return [255, 255, 255];
};
const failing = [];
for (const el of document.querySelectorAll("body *")) {
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
  const style = getComputedStyle(el);
  const [a, b] = [luminance(rgb(style.color)), luminance(backdrop(el))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
  const what = `${el.tagName}#${el.id} "${el.textContent.trim().slice(0, 30)}"`;
  if (ratio < needed) failing.push(`${what}: ${ratio.toFixed(2)} < ${needed}`);
}
return failing;
"""
# Every visible form control named by a label (for=) or aria-label.
_UNLABELLED = """
return [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.getClientRects().length && !el.labels.length && !el.getAttribute("aria-label"))
  .map((el) => el.id || el.name || el.tagName);
"""


def contrast_failures(driver: webdriver.Chrome) -> list[str]:
    return list(driver.execute_script(_CONTRAST))


def unlabelled(driver: webdriver.Chrome) -> list[str]:
    return list(driver.execute_script(_UNLABELLED))


def _focused(driver: webdriver.Chrome) -> str:
    return str(driver.switch_to.active_element.get_attribute("id"))


def _tab_to(driver: webdriver.Chrome, element_id: str, most: int = 12) -> None:
    """Press Tab until ``element_id`` has the focus, as a keyboard user reaches it."""
    for _ in range(most):
        if _focused(driver) == element_id:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"#{element_id} is not reached by Tab (the focus is on #{_focused(driver)})")


def keyboard_test(url: str, width: int, shots: Path) -> dict[str, object]:
    """The visit with the keyboard alone (Tab, typing, arrows, Enter), each state's contrast and labels
    checked on the way: what failed where, and the result's state."""
    driver = browser(width)
    found: dict[str, object] = {}
    try:
        driver.get(url)
        found["consent contrast"] = contrast_failures(driver)
        _tab_to(driver, "consent-accept")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        WebDriverWait(driver, 10).until(lambda d: _focused(d) == "commune")  # the form opens on its first field
        ActionChains(driver).send_keys(TYPED).perform()
        options = WebDriverWait(driver, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#commune-list [role=option]")
        )
        found["first option"] = options[0].text  # down, down, up: back on the first, which Enter picks
        ActionChains(driver).send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_UP, Keys.ENTER).perform()
        found["picked"] = driver.find_element(By.ID, "commune").get_attribute("value")
        found["form contrast"], found["unlabelled"] = contrast_failures(driver), unlabelled(driver)
        _tab_to(driver, "start")
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        result = WebDriverWait(driver, 120).until(
            lambda d: (r := d.find_element(By.ID, "result")).get_attribute("data-state") in ("done", "error") and r
        )
        found["state"], found["error"] = result.get_attribute("data-state"), result.get_attribute("data-error")
        found["result contrast"] = contrast_failures(driver)
        driver.save_screenshot(str(shots / f"keyboard-{width}.png"))
        return found
    finally:
        driver.quit()


class Phone:
    """A resident's phone on the residents' page for "Báo mất sóng" (issue 31): its position (and the yes to
    sharing it) set through the DevTools protocol, the network cut and given back as the page sees it."""

    def __init__(self, url: str, width: int, point: tuple[float, float], accuracy_m: float = 20) -> None:
        self.url, self.width = url, width
        self.driver = browser(width)
        origin = url.split("/do/")[0]
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["geolocation"]})
        self.driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                    {"latitude": point[0], "longitude": point[1], "accuracy": accuracy_m})  # fmt: skip
        self.driver.execute_cdp_cmd("Network.enable", {})

    def open(self) -> None:
        """The page, its report form ready (the config arrived), and the service worker keeping it."""
        self.driver.get(self.url)
        wait = WebDriverWait(self.driver, 30)
        wait.until(lambda d: d.find_element(By.ID, "report-send").is_enabled())
        wait.until(
            lambda d: d.execute_script("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
        )

    def reload(self) -> None:
        self.driver.refresh()
        WebDriverWait(self.driver, 30).until(lambda d: d.find_element(By.ID, "report-send").is_enabled())

    def network(self, online: bool) -> None:
        """The page's network on or off (navigator.onLine and its own requests, as a phone out of coverage)."""
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": not online, "latency": 0,
                                    "downloadThroughput": -1, "uploadThroughput": -1})  # fmt: skip

    def report(self, operator: str, failure: str, consent: bool = True) -> str:
        """Make a report; what the page then says (its note's key)."""
        consented = self.driver.find_element(By.ID, "report-consent")
        if consented.is_selected() != consent:
            consented.click()
        Select(self.driver.find_element(By.ID, "report-operator")).select_by_value(operator)
        self.driver.find_element(By.CSS_SELECTOR, f"input[name=failure][value={failure}]").click()
        before = self.driver.find_element(By.ID, "report-note").get_attribute("data-key")
        self.driver.find_element(By.ID, "report-send").click()
        WebDriverWait(self.driver, 40).until(
            lambda d: (key := d.find_element(By.ID, "report-note").get_attribute("data-key")) not in (None, before,
                                                                                                   "report_locating")
        )  # fmt: skip
        return str(self.driver.find_element(By.ID, "report-note").get_attribute("data-key"))

    def waiting(self) -> int:
        """How many reports the page keeps to send."""
        return int(self.driver.find_element(By.TAG_NAME, "body").get_attribute("data-reports-waiting") or 0)

    def wait_sent(self) -> None:
        WebDriverWait(self.driver, 60).until(lambda d: self.waiting() == 0)

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def shot(self, path: Path, element_id: str = "report") -> None:
        self.driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
        self.driver.save_screenshot(str(path))

    def close(self) -> None:
        self.driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("width", type=int)
    parser.add_argument("shots", type=Path)
    args = parser.parse_args()
    print(json.dumps(resident_test(args.url, args.width, args.shots)))


if __name__ == "__main__":
    main()
