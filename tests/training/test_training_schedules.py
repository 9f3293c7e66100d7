"""LearningRateController: step schedule values and switch points, plateau drops, checkpointed state."""
import tensorflow as tf

from integral_keras.training.schedules import LearningRateController


def test_step_schedule_values_and_next_change():
    controller = LearningRateController(1e-3, "step", boundaries=(10, 25), values=(1e-4, 1e-5))
    expected = {0: 1e-3, 9: 1e-3, 10: 1e-4, 24: 1e-4, 25: 1e-5, 1000: 1e-5}
    assert {step: controller.value(step) for step in expected} == expected
    assert [controller.next_change(step) for step in (0, 9, 10, 24, 25)] == [10, 10, 25, 25, None]


def test_constant_schedule_ignores_validation():
    controller = LearningRateController(1e-3, "constant")
    for loss in (1.0, 2.0, 3.0, 4.0):
        assert not controller.on_validation(loss)
    assert controller.value(123) == 1e-3 and controller.next_change(0) is None


def test_plateau_drops_after_patience_and_stops_at_minimum():
    controller = LearningRateController(1e-3, "plateau", plateau_factor=0.1, plateau_patience=2,
                                        min_learning_rate=1e-5)
    # 1.0 best; 1.0 and 1.2 are not improvements -> drop after the second one.
    drops = [controller.on_validation(loss) for loss in (1.0, 1.0, 1.2)]
    assert drops == [False, False, True]
    assert abs(controller.value(0) - 1e-4) < 1e-12
    assert not controller.on_validation(0.5)  # improvement resets the count
    drops = [controller.on_validation(loss) for loss in (0.6, 0.7, 0.6, 0.7, 0.6, 0.7)]
    assert drops == [False, True, False, False, False, False]  # 1e-5 is the floor: no further drop
    assert abs(controller.value(0) - 1e-5) < 1e-12


def test_plateau_state_is_checkpointed(tmp_path):
    controller = LearningRateController(1e-3, "plateau", plateau_patience=1)
    controller.on_validation(1.0)
    controller.on_validation(2.0)
    path = tf.train.Checkpoint(lr=controller).save(str(tmp_path / "ckpt"))
    restored = LearningRateController(1e-3, "plateau", plateau_patience=1)
    tf.train.Checkpoint(lr=restored).restore(path).assert_consumed()
    assert abs(restored.value(0) - 1e-4) < 1e-12
    assert float(restored.best_loss.numpy()) == 1.0
