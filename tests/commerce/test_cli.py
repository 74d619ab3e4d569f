"""`bizosaas commerce import|export`, run as real processes against an embedded data dir."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest

from bizosaas.commerce.schemas import ChannelCreate, ProductTypeCreate, WarehouseCreate
from bizosaas.commerce.service import catalog, channels, inventory
from bizosaas.identity import service as identity
from bizosaas.kit.db import Database
from bizosaas.kit.tenancy import trusted_scope
from tests.support import processes

pytestmark = pytest.mark.slow

FILE = """product_slug,product_name,product_type,category,sku,attribute:size,price:web,stock:main
linen-shirt,Linen shirt,Clothing,clothing/shirts,LS-S,S,29.90,5
linen-shirt,,,,LS-M,M,29.90,3
"""


def bizosaas(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [processes.BIZOSAAS, *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def prepare_store(data_dir: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{data_dir / 'bizosaas.db'}")
    try:
        async with database.unit_of_work() as session:
            tenant = await identity.create_tenant(session, name="Shop", slug="shop")
        scope = trusted_scope(tenant.id)
        async with database.unit_of_work(scope) as session:
            await catalog.create_product_type(
                session,
                scope=scope,
                data=ProductTypeCreate.model_validate(
                    {
                        "name": "Clothing",
                        "attributes": {
                            "size": {"name": "Size", "kind": "choice", "choices": ["S", "M"]}
                        },
                    }
                ),
            )
            await channels.create_channel(
                session, scope=scope, data=ChannelCreate(name="Web", slug="web", currency="EUR")
            )
            await inventory.create_warehouse(
                session, scope=scope, data=WarehouseCreate(name="Main", code="main")
            )
    finally:
        await database.dispose()


async def test_import_with_dry_run_progress_and_export(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**subprocess_env, "BIZOSAAS_DATA_DIR": str(tmp_path / "data")}
    assert bizosaas(["db", "upgrade"], env, tmp_path).returncode == 0
    await prepare_store(tmp_path / "data")
    good = tmp_path / "products.csv"
    good.write_text(FILE, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(FILE.replace("29.90,5", "lots,5").replace(",M,", ",XXL,"), encoding="utf-8")

    refused = bizosaas(["commerce", "import", str(bad), "--tenant", "shop"], env, tmp_path)
    assert refused.returncode == 1
    assert "price:web" in refused.stdout and "attribute:size" in refused.stdout
    assert "nothing was imported" in refused.stderr

    dry = bizosaas(["commerce", "import", str(good), "--dry-run"], env, tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "would create 1 products, 2 variants, 2 categories" in dry.stdout
    assert "checking" in dry.stderr  # the progress bar
    exported = bizosaas(["commerce", "export"], env, tmp_path)
    assert exported.stdout.count("\n") == 1  # the header only: the dry run changed nothing

    done = bizosaas(["commerce", "import", str(good), "--channel", "web"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "importing" in done.stderr
    again = bizosaas(["commerce", "import", str(good)], env, tmp_path)
    assert "created 0 products, 0 variants" in again.stdout
    assert "updated 1 products, 2 variants" in again.stdout

    target = tmp_path / "out.csv"
    assert bizosaas(["commerce", "export", "-o", str(target)], env, tmp_path).returncode == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["sku"], r["price:web"], r["stock:main"], r["published:web"]) for r in rows] == [
        ("LS-S", "29.90", "5", "true"),
        ("LS-M", "29.90", "3", "true"),
    ]
    unknown = bizosaas(["commerce", "export", "--tenant", "nobody"], env, tmp_path)
    assert unknown.returncode == 1 and "no tenant" in unknown.stderr
