;;; bench/programs/vectors.scm -- a vector holding a large live set, for Guile 3.0 (bench/run.sh, part programs)
;;; A vector of N small objects (each a 3-slot vector holding a pair) is
;;; kept live from start to end while short-lived lists and vectors are made
;;; and dropped; every 16th step of the garbage loop replaces one element at
;;; a pseudo-random index with a fresh object (old-to-young pointers).
;;; Size: N = 1000000, 4M garbage steps; N = 20000, 50000 steps when
;;; PROG_SIZE=smoke.

(define smoke? (equal? (getenv "PROG_SIZE") "smoke"))
(define n (if smoke? 20000 1000000))
(define steps (if smoke? 50000 4000000))

(define (item i) (vector i (* 2 i) (cons i #f)))

(define (next-rand x) (modulo (+ (* x 69069) 1) 4294967296))   ; stays a fixnum

(define (run)
  (let ((live (make-vector n #f)))
    (do ((i 0 (+ i 1))) ((= i n))
      (vector-set! live i (item i)))
    (let loop ((s 0) (x 42) (acc 0))
      (if (< s steps)
          (let* ((l (make-list 8 s))
                 (v (make-vector 4 s))
                 (g (+ (apply + l) (vector-ref v 3))))
            (when (= 0 (modulo s 16))
              (vector-set! live (modulo x n) (item (+ s n))))
            (loop (+ s 1) (next-rand x) (+ acc g)))
          (let sum ((i 0) (t acc))
            (if (= i n)
                t
                (let ((o (vector-ref live i)))
                  (sum (+ i 1) (+ t (vector-ref o 0) (car (vector-ref o 2)))))))))))

(format #t "check: vectors n ~a steps ~a total ~a\n" n steps (run))
