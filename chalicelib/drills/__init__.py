"""Drills (预案演练): inject a scenario, run the real pipeline and workflow marked as a drill.

- :mod:`~chalicelib.drills.scenario` — what a scenario is, strict validation, the bundled ones;
- :mod:`~chalicelib.drills.report` — the drill report (each step's time against its deadline);
- :mod:`~chalicelib.drills.store` — drill records in the incidents table;
- :mod:`~chalicelib.drills.service` — start a drill, inject its events when they fall due;
- :mod:`~chalicelib.drills.views` — ``POST /drills``, ``GET /drills``, ``GET /drills/{id}`` and
  the ``drill_tick`` schedule.
"""
