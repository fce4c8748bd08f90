"""The FastAPI application: routers, the token check and the error mapping in one place."""

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from edgecoach import __version__
from edgecoach.api.auth import TokenMiddleware, bearer_scheme
from edgecoach.api.body_limit import BodyLimitMiddleware
from edgecoach.api.context import ApiContext
from edgecoach.api.errors import COMMON_RESPONSES, install_error_handlers
from edgecoach.api.models import reject_repeated_query_parameters
from edgecoach.api.port import DaemonPort
from edgecoach.api.routes_coaching import router as coaching_router
from edgecoach.api.routes_users import router as users_router
from edgecoach.api.routes_workouts import router as workouts_router
from edgecoach.api.token import MIN_TOKEN_LENGTH
from edgecoach.errors import ConfigError
from edgecoach.store import Store

OPENAPI_PATH = "/openapi.json"


def create_app(
    store: Store, token: str, daemon: DaemonPort, *, user_id: str | None = None
) -> FastAPI:
    """The companion-app API over `store` and `daemon`; every request needs `token`.

    `user_id` is the daemon's athlete: /v1/status and /v1/responses use it when the
    request names no user. The OpenAPI document is served behind the token too.
    """
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"API token must be at least {MIN_TOKEN_LENGTH} characters")
    # FastAPI's own /openapi.json and /docs would be open; the document is served below.
    app = FastAPI(
        title="EdgeCoach local API",
        version=__version__,
        description="Events and feedback from the companion app; settings, export, deletion.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        # Declares the Bearer scheme on every operation; TokenMiddleware enforces it.
        dependencies=[Depends(bearer_scheme), Depends(reject_repeated_query_parameters)],
        responses=COMMON_RESPONSES,
        # Operation ids read like the functions ("post_event"), for generated clients.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.context = ApiContext(store=store, daemon=daemon, user_id=user_id)
    # The last added runs first: the token is checked before any body is read.
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(TokenMiddleware, token=token)
    install_error_handlers(app)
    app.include_router(coaching_router)
    app.include_router(users_router)
    app.include_router(workouts_router)

    @app.get(OPENAPI_PATH, include_in_schema=False)
    async def openapi_document() -> JSONResponse:
        document: dict[str, Any] = app.openapi()
        return JSONResponse(document)

    return app
