"""Stand-in for get-pip.py, for ``make sanity`` (mk/sanity.mk) on hosts that reach only PyPI.

ansible-test bootstraps pip into each sanity virtual environment with a
get-pip script downloaded from ci-files.testing.ansible.com, which this lab
cannot reach. This script does the same with the standard library's
``ensurepip`` and then installs the pinned packages it is given from PyPI.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py's own options; pip install does not know them.
OWN_OPTIONS = ("--no-setuptools", "--no-wheel")


def main() -> None:
    args = [arg for arg in sys.argv[1:] if arg not in OWN_OPTIONS]
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)


if __name__ == "__main__":
    main()
