"""The upstream of the gateway bench: a small BizOSaaS module, and the same route on a bare
FastAPI app (no middleware) for the middleware-stack comparison."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from bizosaas.kit.memory import tune_for_server
from bizosaas.kit.module import DomainModule
from bizosaas.settings import load_settings


class Pong(BaseModel):
    status: str
    service: str


router = APIRouter()


@router.get("/ping", summary="A small JSON answer")
async def ping() -> Pong:
    return Pong(status="ok", service="benchsvc")


module = DomainModule(name="benchsvc", title="Gateway bench upstream", router=router)

bare_app = FastAPI()
bare_app.include_router(router, prefix="/api/brain/benchsvc")


def tuned_bare_app() -> FastAPI:
    """The bare app with the garbage-collector settings of a BizOSaaS server process, so the
    stack-versus-bare comparison measures the middleware and nothing else."""
    tune_for_server(load_settings().gc_young_threshold)
    return bare_app
