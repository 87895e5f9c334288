import numpy as np, time
from gdviz import data, race, analysis
from gdviz.config import RunConfig
from gdviz.runs import one_feature_problem
ds = data.load_dataset("diabetes")
for name, p in {"synthetic": one_feature_problem(RunConfig()), "diab_std": data.make_problem(ds.X, ds.y, scaling="standard", feature_names=ds.feature_names),
  "diab_raw": data.make_problem(ds.X, ds.y, scaling="none", feature_names=ds.feature_names)}.items():
    w0 = np.zeros(p.n_params)
    d = race.default_settings(p, w0)
    entries = [race.Entry(n, tuple(d[n].items())) for n in race.RUNS]
    t=time.perf_counter(); runs = race.race(p, entries, init_params=w0); t=time.perf_counter()-t
    print(name, f"{t:.3f}s", d)
    for r in race.table_rows(p, runs, tol=1e-6, init_params=w0): print("  ", r)
    t=time.perf_counter(); pl = race.player(p, runs, (0, p.n_params-1), names=p.param_names); js = race.player_json(pl, run="x"); t=time.perf_counter()-t
    print("payload", len(js), f"{t:.3f}s", pl.arrows, pl.steps.size)
