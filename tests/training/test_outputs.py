"""The local run's summary, from the Trainer's log history (no model needed)."""

from curate.training.outputs import summary

STATS = {"examples": 16, "truncated": 0, "skipped": 0}


def test_steps_count_every_step_run_not_the_last_logged_loss():
    # logging every 2 steps: the last loss is at 224, the run ended at 225
    log = [{"step": s, "epoch": s / 75, "loss": 1.0 / s} for s in range(2, 225, 2)]
    log.append({"step": 225, "epoch": 3.0, "train_runtime": 3.1, "train_loss": 0.2})
    out = summary(log, STATS, n_val=0)
    assert out["steps"] == 225
    assert out["final_loss"] == round(1.0 / 224, 6) and out["first_loss"] == 0.5


def test_an_empty_log_is_zero_steps():
    assert summary([], STATS, n_val=0)["steps"] == 0
