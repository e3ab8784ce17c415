"""The ingest pipeline (入库): every crawled post and manual report is scored, clustered into its
story, counted into the trends and stored, and a story that reaches a level opens or raises its
incident. :mod:`.sink` is the pipeline (pure of wiring); :mod:`.wiring` builds it for a stage.
"""
