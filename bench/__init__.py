"""National-scale benchmark: police.uk-format data generator and the ``make bench`` harness."""
