"""Real-browser tests: the built site served over HTTP, driven through Playwright in Debian's Chromium."""
