"""Reports built from the program's stored state: the gap analysis of an adopted framework
(:mod:`compliance.reports.gap`), on screen, as XLSX (:mod:`compliance.reports.xlsx`) and as PDF
(:mod:`compliance.reports.pdf`)."""
