from django.urls import path

from vendors import public_views

urlpatterns = [
    path(
        "<str:token>/",
        public_views.QuestionnaireLinkView.as_view(),
        name="vendor_questionnaire_link",
    ),
    path(
        "<str:token>/files/",
        public_views.QuestionnaireAttachView.as_view(),
        name="vendor_questionnaire_link_attach",
    ),
]
