"""``python -m ingest.sample_data [--out DIR] [--seed 2017]``: the sample landing folder.

A thin alias of ``ingest.sample.generator`` (the code lives in the ``ingest/sample/``
package), kept because the Makefile, ``orchestration.run`` and the tests name it.
"""

from __future__ import annotations

import sys

from ingest.sample.generator import LandingNotSampleError, generate, main, prepare_landing

__all__ = ["LandingNotSampleError", "generate", "main", "prepare_landing"]

if __name__ == "__main__":
    sys.exit(main())
