"""GX imported without scipy.stats and altair, which still work when something uses them
(``sinergi.gx_import``). Each check runs in a fresh interpreter: the test process has long
imported both."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_gx_comes_up_without_the_libraries_no_suite_uses():
    """Nor does walking the stack (dbt does, for each behaviour flag: ``inspect.getmodule``
    asks every module for its ``__file__``) import them."""
    script = (
        "import inspect, sys\n"
        "from sinergi.gx_import import gx\n"
        "gx.get_context(mode='ephemeral')\n"
        "inspect.stack()\n"
        "print([m in sys.modules for m in ('scipy.spatial', 'scipy.stats._stats_py', "
        "'altair.vegalite')])\n"
    )
    assert _run(script)[-3:] == ["[False,", "False,", "False]"]


def test_an_expectation_that_needs_them_still_works():
    """The KL-divergence expectation computes with scipy.stats through the stand-in, and its
    module reaches altair's real Chart; after that, ``import scipy.stats`` is the real one."""
    script = (
        "import sys\n"
        "import pandas as pd\n"
        "from sinergi.gx_import import gx\n"
        "from great_expectations.expectations.core import "
        "expect_column_kl_divergence_to_be_less_than as kl\n"
        "context = gx.get_context(mode='ephemeral')\n"
        "asset = context.data_sources.add_pandas('p').add_dataframe_asset('a')\n"
        "frame = pd.DataFrame({'x': [0.5, 0.5, 1.5, 1.5]})\n"
        "batch = asset.add_batch_definition_whole_dataframe('b').get_batch(\n"
        "    batch_parameters={'dataframe': frame})\n"
        "partition = {'bins': [0, 1, 2], 'weights': [0.5, 0.5]}\n"
        "same = gx.expectations.ExpectColumnKLDivergenceToBeLessThan(\n"
        "    column='x', partition_object=partition, threshold=0.1)\n"
        "skewed = gx.expectations.ExpectColumnKLDivergenceToBeLessThan(\n"
        "    column='x', partition_object={'bins': [0, 1, 2], 'weights': [0.9, 0.1]},\n"
        "    threshold=0.1)\n"
        "print(batch.validate(same).success, batch.validate(skewed).success)\n"
        "import altair, scipy.stats\n"
        "print(kl.alt.Chart is altair.Chart, type(scipy.stats).__name__)\n"
        "print(round(scipy.stats.entropy([0.5, 0.5], [0.9, 0.1]), 4))\n"
    )
    assert _run(script)[-5:] == ["True", "False", "True", "module", "0.5108"]


def test_a_submodule_is_imported_through_the_stand_in():
    script = (
        "import sys\n"
        "from sinergi.gx_import import gx, DeferredModule\n"
        "print(isinstance(sys.modules['scipy.stats'], DeferredModule))\n"
        "import scipy.stats.distributions as d\n"  # reads the stand-in's __path__
        "print(d.norm.cdf(0.0), type(sys.modules['scipy.stats']).__name__)\n"
    )
    assert _run(script)[-3:] == ["True", "0.5", "module"]


@pytest.mark.parametrize("library", ["altair", "scipy.stats"])
def test_a_library_already_imported_is_left_as_it_is(library):
    script = (
        f"import sys, {library} as real\n"
        "from sinergi.gx_import import gx\n"
        f"print(sys.modules[{library!r}] is real, type(real).__name__)\n"
    )
    assert _run(script)[-2:] == ["True", "module"]
