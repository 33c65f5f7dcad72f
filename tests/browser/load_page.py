"""Loads an HTML file in headless Chromium over the DevTools protocol and reports what the page did.

    python3 load_page.py CHROMIUM PAGE.html SCREENSHOT.png [HEIGHT [TOP]]

Prints one JSON object: every URL the page requested, console messages, uncaught exceptions and log entries
(a Content-Security-Policy violation is one), the `data-metric` and `data-series` values as the browser sees
them, and how sections break when printed. Writes a PNG screenshot of HEIGHT CSS pixels of the page from TOP
(default: all of it). Uses only the standard library: the protocol runs over `--remote-debugging-pipe`.
"""

import base64
import json
import os
import select
import subprocess
import sys
import tempfile
import time

TIMEOUT = 60.0


class Browser:
    def __init__(self, chromium, profile):
        self.to_browser_r, self.to_browser_w = os.pipe()
        self.from_browser_r, self.from_browser_w = os.pipe()

        def fds():
            # Chromium reads commands from fd 3 and writes answers to fd 4. Copy both ends above 4 first, so
            # placing one cannot close the other, and make them survive exec.
            read, write = os.dup(self.to_browser_r) + 10, os.dup(self.from_browser_w) + 10
            os.dup2(self.to_browser_r, read)
            os.dup2(self.from_browser_w, write)
            os.dup2(read, 3)
            os.dup2(write, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        args = [
            chromium,
            "--headless",
            "--remote-debugging-pipe",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args, preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=None
        )
        os.close(self.to_browser_r)
        os.close(self.from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.deadline = time.monotonic() + TIMEOUT

    def _read_message(self):
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self.from_browser_r], [], [], left)
            if ready:
                chunk = os.read(self.from_browser_r, 1 << 16)
                if not chunk:
                    raise EOFError("chromium closed the pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser_w, json.dumps(message).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_for(self, method):
        for m in self.events:
            if m.get("method") == method:
                return
        while True:
            m = self._read_message()
            self.events.append(m)
            if m.get("method") == method:
                return

    def close(self):
        try:
            self.send("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


PROBE = """JSON.stringify({
  title: document.title,
  metrics: Object.fromEntries([...document.querySelectorAll('[data-metric]')].map(e => [e.dataset.metric, e.textContent])),
  series: Object.fromEntries(['holders', 'privileged', 'grants'].map(k =>
    [k, [...document.querySelectorAll('[data-series="' + k + '"]')].map(e => Number(e.textContent))])),
  sections: [...document.querySelectorAll('section')].map(s => s.id),
  svgs: document.querySelectorAll('svg').length,
  breaks: [...document.querySelectorAll('section')].map(s => getComputedStyle(s).breakBefore),
})"""


def main():
    chromium, page, screenshot = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    height = int(sys.argv[4]) if len(sys.argv) > 4 else None
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    url = "file://" + page
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(chromium, profile)
        try:
            target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log"):
                b.send(f"{domain}.enable", session=s)
            b.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session=s,
            )
            b.events.clear()
            b.send("Page.navigate", {"url": url}, session=s)
            b.wait_for("Page.loadEventFired")
            screen = json.loads(b.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=s)["result"]["value"])
            size = b.send("Page.getLayoutMetrics", session=s)["cssContentSize"]
            clip = {"x": 0, "y": top, "width": 1280, "height": min(size["height"] - top, height or size["height"]), "scale": 1}
            shot = b.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, session=s)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            b.send("Emulation.setEmulatedMedia", {"media": "print"}, session=s)
            printed = json.loads(b.send("Runtime.evaluate", {"expression": PROBE, "returnByValue": True}, session=s)["result"]["value"])
            events = [e for e in b.events if e.get("sessionId") == s]
        finally:
            b.close()
    requests = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    console = [
        {"type": e["params"]["type"], "text": " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"])}
        for e in events
        if e.get("method") == "Runtime.consoleAPICalled"
    ]
    exceptions = [e["params"]["exceptionDetails"].get("text", "") for e in events if e.get("method") == "Runtime.exceptionThrown"]
    log = [
        {"level": e["params"]["entry"]["level"], "text": e["params"]["entry"]["text"]}
        for e in events
        if e.get("method") == "Log.entryAdded"
    ]
    json.dump(
        {
            "url": url,
            "requests": requests,
            "console": console,
            "exceptions": exceptions,
            "log": log,
            "screen": screen,
            "print_breaks": printed["breaks"],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
