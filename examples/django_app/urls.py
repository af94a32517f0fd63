"""Views and routes of the Django example: PII goes in and out, veil removes it on the way."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

CUSTOMER = {
    "id": 42,
    "plan": "pro",
    "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+44 20 7946 0958"},
    "card_number": "4111 1111 1111 1111",
}


@require_POST
def echo(request: HttpRequest) -> HttpResponse:
    """What the view received: already redacted by veil (invalid JSON never gets here)."""
    return JsonResponse(json.loads(request.body), safe=False)


@require_GET
def customer(request: HttpRequest) -> HttpResponse:
    return JsonResponse(CUSTOMER)


@require_GET
def events(request: HttpRequest) -> HttpResponse:
    """NDJSON, one event at a time: veil redacts each line as it is produced."""

    def generate() -> Iterator[str]:
        for n in range(3):
            yield json.dumps({"seq": n, "email": f"user{n}@example.com", "status": "ok"}) + "\n"
            time.sleep(0.2)

    return StreamingHttpResponse(generate(), content_type="application/x-ndjson")


urlpatterns = [
    path("echo", echo),
    path("customer", customer),
    path("events", events),
]
