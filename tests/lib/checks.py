"""A pass/fail tally for the Python tests: each check counts, each failure prints at once."""


class Checks:
    """check(cond, what): counts; prints "FAIL: what" when cond is false; returns cond."""

    def __init__(self):
        self.passed = self.failed = 0
        self.failures = []

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)
            print("FAIL:", what, flush=True)
        return bool(cond)

    def summary(self, label):
        """Prints "label: N passed, M failed"; returns the exit status."""
        print(f"{label}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
