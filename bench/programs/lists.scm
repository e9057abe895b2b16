;;; bench/programs/lists.scm -- lists and pairs for Guile 3.0 (bench/run.sh, part programs)
;;; Each round builds a list of N integers, reverses it, maps over it,
;;; zips it into a list of pairs, filters, sorts (merge sort: fresh pairs),
;;; builds an association list and looks a few keys up in it.  The previous
;;; round's zipped list stays live while the next round runs.
;;; Size: N = 300000, 6 rounds; N = 5000, 3 rounds when PROG_SIZE=smoke.

(define smoke? (equal? (getenv "PROG_SIZE") "smoke"))
(define n (if smoke? 5000 300000))
(define rounds (if smoke? 3 6))

(define (sum-cars l acc)
  (if (null? l) acc (sum-cars (cdr l) (+ acc (car (car l))))))

(define (sum-list l acc)
  (if (null? l) acc (sum-list (cdr l) (+ acc (car l)))))

(define (round r kept)
  (let* ((l (iota n r))                                 ; r .. r+n-1
         (rv (reverse l))
         (m (map (lambda (x) (- (* 3 x) r)) rv))
         (z (map cons l m))                             ; ((x . 3x'-r) ...)
         (f (filter (lambda (p) (odd? (cdr p))) z))
         (s (sort (map (lambda (p) (modulo (* 7919 (car p)) 100003)) f) <))
         (al (map (lambda (x) (cons x (list x x))) (list-head s (min 2000 (length s)))))
         (hits (let look ((k 0) (acc 0))
                 (if (= k 200)
                     acc
                     (look (+ k 1) (if (assv (* k 37) al) (+ acc 1) acc)))))
         (a (append s (list-copy rv))))
    (values z
            (+ (sum-cars f 0) (sum-list s 0) (length a) hits
               (if (null? kept) 0 (length kept))))))

(define (run)
  (let loop ((r 0) (kept '()) (acc 0))
    (if (= r rounds)
        (+ acc (sum-cars kept 0))
        (call-with-values (lambda () (round r kept))
          (lambda (z v) (loop (+ r 1) z (+ acc v)))))))

(format #t "check: lists n ~a rounds ~a total ~a\n" n rounds (run))
