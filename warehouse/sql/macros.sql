-- The time from `earlier` to `later`, only between times known to the minute (a precision of
-- 'second' or 'minute', or none recorded): from a date-only stamp a lag would claim too much.
CREATE OR REPLACE MACRO precise_span(later, later_precision, earlier, earlier_precision) AS
    CASE WHEN coalesce(later_precision, 'second') IN ('second', 'minute')
          AND coalesce(earlier_precision, 'second') IN ('second', 'minute')
         THEN later - earlier END;
