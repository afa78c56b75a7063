"""A pass/fail tally for the Python tests: each check counts, each failure prints at once."""


class Checks:
    """check(cond, what): counts; prints "FAIL: what" when cond is false (and, verbose, "ok:
    what" when it is true); returns cond."""

    def __init__(self, verbose=False):
        self.passed = self.failed = 0
        self.failures = []
        self.verbose = verbose

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
            if self.verbose:
                print("ok:  ", what, flush=True)
        else:
            self.failed += 1
            self.failures.append(what)
            print("FAIL:", what, flush=True)
        return bool(cond)

    def summary(self, label):
        """Prints "label: N passed, M failed"; returns the exit status."""
        print(f"{label}: {self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0


def run_scenarios(check, scenarios, *args, after=None):
    """Runs each scenario fn(check, *args) in turn, timing it; an exception is one failed
    check naming the scenario, and the next scenario still runs. after(check, name), when
    given, runs after each one (e.g. the appliance's mbufs back in its pool)."""
    import time
    import traceback
    for fn in scenarios:
        t0 = time.time()
        before = check.failed
        try:
            fn(check, *args)
        except Exception:  # noqa: BLE001
            check(False, f"{fn.__name__} raised: {traceback.format_exc()}")
        if after:
            after(check, fn.__name__)
        print(f"  {fn.__name__}: {time.time() - t0:.1f} s"
              f"{'' if check.failed == before else ' (FAILED)'}", flush=True)
