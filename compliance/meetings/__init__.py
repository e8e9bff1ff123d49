"""The weekly program meeting: its notes and action items (models in compliance.models.meetings).

``weeks`` names weeks in an organization's time zone, ``selectors`` reads what a week shows,
``services`` writes with their audit events, ``work`` puts open items in their owner's My work.
"""
