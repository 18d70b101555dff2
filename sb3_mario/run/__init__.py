"""The workflow around SB3's ``learn()``: one run config (``config``), one seeding rule (``seeding``),
training, resuming and branching in a run folder (``training``, ``callbacks``), one evaluation core
(``evaluation``), and what is done with models and runs afterwards (``recording``, ``export``,
``plotting``)."""
