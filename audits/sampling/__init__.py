"""The auditor's populations and samples (issue 12, item 7): policies, writes and reads."""
