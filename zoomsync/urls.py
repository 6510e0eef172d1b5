from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from zoomsync.auth import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from zoomsync.views import healthz, metrics

# Sign-in is throttled (zoomsync/auth.py); the forms say so plainly when it is locked.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("connector.urls")),
    path("workflows/", include("workflows.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: Swagger UI's start-up script is its own URL (no inline script, CSP-clean);
    # its files come from the pinned drf-spectacular-sidecar package.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("settings_ui.urls")),
]

if settings.ZOOMSYNC_SANDBOX:
    urlpatterns.insert(0, path("", include("sandbox.urls")))
