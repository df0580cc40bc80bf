"""The report pack: the quarterly report (Word, PDF) and its charts, from checked workbooks."""
