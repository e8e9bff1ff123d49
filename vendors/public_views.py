"""The questionnaire page behind the link sent to a vendor's contact (no account).

Reading the page never changes anything. The contact saves (and comes back later), attaches
files and submits after a confirmation step. A submitted, expired or revoked questionnaire,
and a token that matches nothing (forged, altered, truncated), all answer the same dead page
(410 for a known link, 404 otherwise) and write nothing. Requests are counted per client
address in the cache; past the limit the page answers 429 without looking the token up.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views import View

from compliance.throttle import client_ip, over_rate
from vendors import questionnaire_services as services
from vendors.models import SentQuestionnaire
from vendors.questionnaires import answer_label, answer_options

# The window (seconds) of settings.VENDOR_QUESTIONNAIRE_LINK_RATE.
RATE_WINDOW = 600
# Largest request body that is not a file upload (the answers of a long questionnaire).
MAX_FORM_BODY = 1024 * 1024


def _private(response: HttpResponseBase) -> HttpResponseBase:
    # The token is a credential: no caching, no indexing, and no Referer to other sites.
    # ("same-origin" rather than "no-referrer": with "no-referrer" browsers send "Origin: null"
    # on the form posts, which the CSRF check rightly refuses.)
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _throttled(request: HttpRequest) -> bool:
    return over_rate(
        [f"vq-rate:{client_ip(request)}"],
        limit=settings.VENDOR_QUESTIONNAIRE_LINK_RATE,
        window=RATE_WINDOW,
        what="vendor questionnaire links",
    )


def dead(request: HttpRequest, *, status: int) -> HttpResponseBase:
    response = render(request, "vendors/questionnaires/link_dead.html", status=status)
    return _private(response)


class _LinkView(View):
    questionnaire: SentQuestionnaire

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if _throttled(request):
            response = render(request, "vendors/questionnaires/link_busy.html", status=429)
            response["Retry-After"] = str(RATE_WINDOW)
            return _private(response)
        found = services.questionnaire_for_token(kwargs["token"])
        if found is None:
            return dead(request, status=404)
        if not found.is_open:
            return dead(request, status=410)
        self.questionnaire = found
        return _private(super().dispatch(request, *args, **kwargs))

    def page(self, *, status: int = 200, **extra: Any) -> HttpResponse:
        questionnaire = self.questionnaire
        saved = services.answers_by_key(questionnaire)
        posted = extra.pop("posted", None) or {}
        rows, section = [], None
        values: dict[str, str] = {}
        for question in questionnaire.questions:
            key = question["key"]
            answer = saved.get(key)
            value, comment = posted.get(
                key, (answer.value if answer else "", answer.comment if answer else "")
            )
            values[key] = value
            rows.append(
                {
                    "q": question,
                    "new_section": question["section"] != section,
                    "options": answer_options(question),
                    "value": value,
                    "label": answer_label(question, value),
                    "comment": comment,
                }
            )
            section = question["section"]
        answered = sum(1 for v in values.values() if v)
        context = {
            "questionnaire": questionnaire,
            "vendor": questionnaire.vendor,
            "organization": questionnaire.organization,
            "rows": rows,
            "answered": answered,
            "attachments": list(questionnaire.attachments.all()),
            "max_file_mb": settings.VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES // (1024 * 1024),
            "token": self.kwargs["token"],
            **extra,
        }
        template = "link_confirm.html" if extra.get("confirm") else "link.html"
        return render(self.request, f"vendors/questionnaires/{template}", context, status=status)


def posted_answers(request: HttpRequest, questionnaire: SentQuestionnaire) -> dict[str, tuple]:
    answers = {}
    for question in questionnaire.questions:
        key = question["key"]
        if f"a-{key}" in request.POST or f"c-{key}" in request.POST:
            answers[key] = (request.POST.get(f"a-{key}", ""), request.POST.get(f"c-{key}", ""))
    return answers


class QuestionnaireLinkView(_LinkView):
    def get(self, request: HttpRequest, token: str) -> HttpResponseBase:
        return self.page(saved_now=request.GET.get("saved") == "1")

    def post(self, request: HttpRequest, token: str) -> HttpResponseBase:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_FORM_BODY:
            return self.page(status=413, error="The form is too large to save.")
        action = request.POST.get("action", "save")
        answers = posted_answers(request, self.questionnaire)
        try:
            if action == "submit":
                if request.POST.get("confirm") != "yes":
                    return self.page(
                        confirm=True,
                        status=400,
                        error="Tick the box to confirm the answers are final.",
                    )
                services.questionnaire_submit(questionnaire=self.questionnaire, answers=answers)
                return render(
                    request,
                    "vendors/questionnaires/link_done.html",
                    {"questionnaire": self.questionnaire,
                     "organization": self.questionnaire.organization},
                )  # fmt: skip
            services.questionnaire_save(questionnaire=self.questionnaire, answers=answers)
        except services.LinkClosed:
            return dead(request, status=410)
        except ValidationError as exc:
            return self.page(status=400, posted=answers, errors=exc.message_dict)
        if action == "review":
            self.questionnaire.refresh_from_db()
            return self.page(confirm=True)
        return redirect(request.path + "?saved=1")


class QuestionnaireAttachView(_LinkView):
    def get(self, request: HttpRequest, token: str) -> HttpResponseBase:
        return redirect("vendor_questionnaire_link", token=token)

    def post(self, request: HttpRequest, token: str) -> HttpResponseBase:
        limit = settings.VENDOR_QUESTIONNAIRE_MAX_FILE_BYTES
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + MAX_FORM_BODY:
            return self.page(status=413, file_error=f"The file is larger than {limit // 2**20} MB.")
        upload = request.FILES.get("file")
        if upload is None:
            return self.page(status=400, file_error="Choose a file to attach.")
        try:
            services.questionnaire_attach(
                questionnaire=self.questionnaire,
                upload=upload,
                question_key=request.POST.get("question", ""),
            )
        except services.LinkClosed:
            return dead(request, status=410)
        except ValidationError as exc:
            return self.page(status=400, file_error=" ".join(exc.messages))
        return redirect("vendor_questionnaire_link", token=token)
