from django.urls import URLPattern, URLResolver

# Pages for people without a login (signed acknowledgement links).
urlpatterns: list[URLPattern | URLResolver] = []
