"""The security questionnaire answer library: entries, imported questionnaires, suggestions and
exports (models in trust.models.library)."""
