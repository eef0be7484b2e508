"""Training progress on standard error: a tqdm bar when tqdm is installed, else a plain line every tenth of
the run, each showing the step, the loss and the steps per second."""

from __future__ import annotations

import sys
import time


class Progress:
    """Reports ``update(step, loss)`` calls for a run of ``total`` steps (silently when not ``enabled``)."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.enabled, self.done = total, enabled, 0
        self.start = time.perf_counter()
        self.every = max(1, total // 10)
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self.bar = tqdm(total=total, unit="step", file=sys.stderr)

    def update(self, step: int, loss: float) -> None:
        """Record one finished step and its loss."""
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix(step=step, loss=f"{loss:.6g}", refresh=False)
            self.bar.update(1)
        elif self.done % self.every == 0 or self.done == self.total:
            rate = self.done / max(time.perf_counter() - self.start, 1e-9)
            print(f"step {step}  loss {loss:.6g}  {rate:.1f} steps/s", file=sys.stderr)

    def close(self) -> None:
        """End the bar (if any)."""
        if self.bar is not None:
            self.bar.close()
