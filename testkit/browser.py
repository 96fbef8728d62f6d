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
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

TYPED = "quang xuong"  # as a resident types it on a phone without Vietnamese input
HOOKS = ("download-mbps", "upload-mbps", "latency-ms", "result-id")  # #result's data-* once done (issue 22)


def fold(text: str) -> str:
    """``text`` without its diacritics, as the resident typed it."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).replace("đ", "d")


def browser(width: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},900"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))


def resident_test(url: str, width: int, shots: Path, point: tuple[float, float] | None = None) -> dict[str, str]:
    """A resident's whole visit, as a browser makes it (the commune typed, or found from the browser's
    ``point``); the result's state and what the page shows. Screenshots before, during and after in ``shots``."""
    driver = browser(width)
    try:
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
        Select(driver.find_element(By.ID, "access")).select_by_value("fixed")
        Select(driver.find_element(By.ID, "isp")).select_by_value("VNPT")
        driver.find_element(By.ID, "start").click()
        WebDriverWait(driver, 60).until(lambda b: b.find_element(By.ID, "live").text)  # a live speed shows
        driver.save_screenshot(str(shots / f"during-{width}.png"))
        result = WebDriverWait(driver, 120).until(
            lambda b: (r := b.find_element(By.ID, "result")).get_attribute("data-state") in ("done", "error") and r
        )
        driver.save_screenshot(str(shots / f"result-{width}.png"))
        return {"state": str(result.get_attribute("data-state")), "error": str(result.get_attribute("data-error")),
                "named": named, "shown": driver.find_element(By.ID, "figures").text,
                "hooks": json.dumps({k: result.get_attribute(f"data-{k}") for k in HOOKS}),
                "lang": str(driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))}  # fmt: skip
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("width", type=int)
    parser.add_argument("shots", type=Path)
    args = parser.parse_args()
    print(json.dumps(resident_test(args.url, args.width, args.shots)))


if __name__ == "__main__":
    main()
