from django.urls import URLPattern, URLResolver, path

from policies.public_views import AcknowledgementLinkView

# Pages for people without a login (signed acknowledgement links), mounted at /ack/.
urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>/", AcknowledgementLinkView.as_view(), name="policy_ack_link"),
]
